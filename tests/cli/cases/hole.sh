$SL inspect $FIX/npy_bad_hole

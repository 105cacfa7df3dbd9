$SL read $FIX/npy_bad_truncated

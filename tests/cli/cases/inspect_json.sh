$SL inspect $FIX/npy_zero_row_middle --json

$SL read $FIX/npy_f4_ragged_t8 --dtype float64

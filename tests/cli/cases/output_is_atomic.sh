$SL read $FIX/npy_f4_ragged_t8 --output $T/out.npy >/dev/null
ls $T

# --json on a bad file, alone and at 3 ranks (one object, from rank 0)
$SL read $FIX/npy_bad_header --json || echo "rc=$?"
$MPIEXEC -n 3 $SL read $FIX/npy_bad_truncated --json 2>/dev/null || echo "rc=$?"

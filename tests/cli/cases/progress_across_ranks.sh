# --progress=always at 3 ranks: rank 0's line counts every rank's bytes
# (MPI_THREAD_MULTIPLE); its last update is the summary of all 381.5 KiB
$SL write $T/d --shape 50000,2 --num-shards 4 >/dev/null
$MPIEXEC -n 3 $SL read $T/d --progress=always 2>&1 >/dev/null | tr '\r' '\n' | sed 's/\x1b\[K//' | grep -v '^$' | tail -1
$SL read $T/d --progress=never 2>&1 >/dev/null | wc -c

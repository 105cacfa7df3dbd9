$SL write $T/ds --shape 10,2 --num-shards 2 >/dev/null
rm $T/ds/shard_0001.npy; mkfifo $T/ds/shard_0001.npy
timeout 20 $MPIEXEC -n 2 $SL read $T/ds

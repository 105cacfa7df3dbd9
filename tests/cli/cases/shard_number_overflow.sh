$SL write $T/ds --shape 10,2 --num-shards 1 >/dev/null
cp $T/ds/shard_0000.npy $T/ds/shard_99999999999999999999.npy
$SL read $T/ds

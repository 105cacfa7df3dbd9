$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
ln $T/ds/shard_0001.npy $T/link.npy
$SL read $T/ds --output $T/link.npy

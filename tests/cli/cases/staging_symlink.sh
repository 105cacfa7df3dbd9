mkdir $T/victim; echo v > $T/victim/shard_0000.npy
$SL write $T/ds --shape 10,2 --num-shards 2 >/dev/null
ln -s ../victim $T/ds/.shardload-write
$SL write $T/ds --shape 10,2 --num-shards 2 >/dev/null
cat $T/victim/shard_0000.npy
ln -s ../victim $T/ds/.shardload-write
$SL clean $T/ds >/dev/null
cat $T/victim/shard_0000.npy

$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
sum=$(sha256sum $T/ds/shard_0000.npy)
rc=0; $SL read $T/ds --output $T/ds/shard_0000.npy || rc=$?
[ "$(sha256sum $T/ds/shard_0000.npy)" = "$sum" ] && exit $rc

$SL write $T/ds --shape 100,2 --num-shards 1 --format parquet >/dev/null
$SL read $T/ds/shard_0000.parquet --output $T/ds/shard_0000.parquet || echo "rc=$?"
cp $T/ds/shard_0000.parquet $T/in.npy
$SL read $T/in.npy --format parquet --output $T/in.npy

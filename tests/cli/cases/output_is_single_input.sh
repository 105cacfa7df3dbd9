$SL write $T/ds --shape 100,2 --num-shards 1 --format parquet >/dev/null
$SL read $T/ds/shard_0000.parquet --output $T/ds/shard_0000.parquet

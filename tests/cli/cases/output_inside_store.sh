$SL write $T/z --format zarr --shape 100,2 --num-shards 2 >/dev/null
$SL read $T/z --output $T/z/_meta.json || echo "rc=$?"
$SL read $T/z --output $T/z/shard_0000.zarr/0.npy || echo "rc=$?"
$SL read $T/z --verify | grep -E '^(verify|output):'

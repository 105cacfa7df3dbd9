$SL write $T/ds --shape 100,2 --num-shards 3 >/dev/null
$SL read $T/ds --pattern "shard_0001.npy" --verify | grep -E '^(verify|output):'

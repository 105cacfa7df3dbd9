$SL read --shard-dir $FIX/npy_many_shards_37 --pattern 'shard_00[0-1]?.npy' --json

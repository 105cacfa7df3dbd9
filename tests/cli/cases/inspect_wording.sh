# the summary line: one shard and its size in bytes, several shards of one
# file, sizes in KiB; a long list of shards read alike is summarised (--json
# keeps every one); read's report starts with the same line
$SL inspect $FIX/npy_fortran_order/shard_0001.npy | head -1
$SL read $FIX/npy_fortran_order/shard_0001.npy | head -1
$SL inspect $FIX/h5_single_file_shards/shards.h5 --dataset '/shards/*' | head -1
$SL inspect $FIX/npy_many_shards_37
$SL inspect $FIX/npy_many_shards_37 --json | /usr/bin/python3 -c "import json, sys; print(len(json.load(sys.stdin)['shards']), 'shards in --json')"

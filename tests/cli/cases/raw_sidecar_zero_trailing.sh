mkdir $T/r; head -c 64 /dev/zero > $T/r/shard_0000.bin
echo '{"dtype": "<f4", "trailing": [0]}' > $T/r/_meta.json
$SL read $T/r --format raw

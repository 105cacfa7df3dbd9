# --list that cannot be read to its end (a directory: getline fails with
# EISDIR) is an I/O error naming the list, exit 1, never a shorter dataset
# nor "the list names no path"
$SL write $T/a --shape 10,2 --num-shards 2 >/dev/null
$SL inspect $T/a/shard_0000.npy --list $T || echo "rc=$?"
$SL inspect --list $T || echo "rc=$?"
$SL read --list $T --json || echo "rc=$?"

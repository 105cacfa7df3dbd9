# a link to an ancestor (two make the walk exponential) is not followed by
# ** or the key=value walk: each shard once, no hang
mkdir -p $T/h/k=1
cp $FIX/npy_f4_ragged_t8/shard_0000.npy $FIX/npy_f4_ragged_t8/shard_0001.npy $T/h/k=1/
ln -s . $T/h/a
ln -s . $T/h/b
ln -s . $T/h/k=9
$SL inspect $T/h --pattern '**/*.npy' | grep -E '^/|^  \['
$SL inspect $T/h | grep -E '^/|^  \['

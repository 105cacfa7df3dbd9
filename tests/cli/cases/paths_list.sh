# --list FILE and --list - (standard input), after any PATHs
$SL write $T/a --shape 100,3 --num-shards 3 >/dev/null
ls $T/a/shard_0002.npy $T/a/shard_0000.npy > $T/list
printf '# a comment\n\n' >> $T/list
$SL inspect --list $T/list --json | grep -o '"num_shards":[0-9]*'
$SL inspect $T/a/shard_0001.npy --list $T/list | head -1
echo $T/a/shard_0001.npy | $SL read --list - | head -1
$MPIEXEC -n 2 $SL read --list $T/list | head -1
printf '' > $T/empty
$SL read --list $T/empty || echo "rc=$?"
$SL read --list $T/nowhere || echo "rc=$?"

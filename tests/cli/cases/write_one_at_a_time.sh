$SL write $T/ds --shape 8000000,4 --num-shards 8 >/dev/null &
for i in $(seq 100); do [ -d $T/ds/.shardload-write ] && break; sleep 0.05; done
rc=0; $SL write $T/ds --shape 10,2 --num-shards 2 2>$T/err || rc=$?
wait
cat $T/err
$SL read $T/ds --verify | grep -E '^(verify|output):'
exit $rc

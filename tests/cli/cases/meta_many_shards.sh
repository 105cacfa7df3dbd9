$SL write $T/ds --shape 8000,2 --num-shards 4000 >/dev/null
[ $(stat -c %s $T/ds/_meta.json) -gt 65536 ]
$SL read $T/ds --verify | grep -E '^(verify|output):'
$SL write $T/ds --shape 80,2 --num-shards 10 | tail -1
ls $T/ds | wc -l
$SL clean $T/ds

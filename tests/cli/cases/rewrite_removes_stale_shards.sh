$SL write $T/d --shape 100,3 --num-shards 5 >/dev/null
$SL write $T/d --shape 100,3 --num-shards 2 --seed 4 >/dev/null
ls $T/d
$SL read $T/d --verify | grep -E '^(verify|output):'

$SL write $T/ds --shape 100,2 --num-shards 2 --seed 9007199254740991 >/dev/null
$SL read $T/ds --verify | grep -E '^(verify|output):'

$SL write $T/ds --shape 100,2 --num-shards 2 --seed 18446744073709551615 >/dev/null
$SL read $T/ds --verify | grep -E '^(verify|output):'
$SL write $T/d2 --shape 100,2 --num-shards 2 --seed 9007199254740993 >/dev/null
$SL read $T/d2 --verify | grep -E '^(verify|output):'

$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
$SL read $T/ds --output $T/ds/_meta.json

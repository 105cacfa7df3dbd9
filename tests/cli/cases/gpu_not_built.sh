$SL write $T/d --shape 10,2 --num-shards 2 >/dev/null
$SL read $T/d --variant gpu

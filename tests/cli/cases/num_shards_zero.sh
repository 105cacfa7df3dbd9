$SL write $T/ds --shape 10,2 --num-shards 0

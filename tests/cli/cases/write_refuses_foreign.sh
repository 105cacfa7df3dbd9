mkdir -p $T/d && echo keep > $T/d/notes.txt
$SL write $T/d --shape 100,3 --num-shards 2

$SL write $T/d --shape 1000,4 --dtype int16 --num-shards 3 --seed 9 >/dev/null
SHARDLOAD_MPI=0 $SL read $T/d --json --verify --threads 2 --partition tiled

$SL write $T/ds --shape 100,3 --num-shards 2 --format parquet >/dev/null
$SL read $T/ds --columns c1,c0 --verify | grep -E '^(verify|output):'

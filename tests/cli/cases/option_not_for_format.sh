# table and HDF5 options given for an npy dataset are refused, not ignored
$SL write $T/d --shape 10,2 --num-shards 2 >/dev/null
$SL read $T/d --columns a || echo "rc=$?"
$SL read $T/d --dataset /x || echo "rc=$?"
$SL inspect $T/d --header-bytes 8 || echo "rc=$?"
$SL read $T/d --dtype int8 || echo "rc=$?"
$SL read $FIX/parquet_duckdb_f4_uncompressed --trailing 3 || echo "rc=$?"

# common names of the formats; an unknown one is a usage error
$SL inspect $FIX/h5_f4_contiguous_t16 --format h5 | head -1
$SL inspect $FIX/arrow_js_f4_batches --format arrow_ipc | head -1
$SL inspect $FIX/arrow_js_f4_batches --format Feather | head -1
$SL inspect $FIX/parquet_duckdb_f4_uncompressed --format pq | head -1
$SL read $FIX/npy_bool_t5 --format numpy || echo "rc=$?"
$SL write $T/w --shape 10,2 --format h5 | tail -1
grep -q "\"format\":.*\"hdf5\"" $T/w/_meta.json
$SL read $T/w --verify | grep -E '^(verify|output):'

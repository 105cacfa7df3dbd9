$SL read $FIX/parquet_duckdb_bad_cast_float_to_int --columns label,x --dtype int64

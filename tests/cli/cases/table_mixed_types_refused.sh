$SL read $FIX/parquet_duckdb_bad_mixed_types

$SL inspect $FIX/parquet_duckdb_timestamp_select --columns t0
$SL inspect $FIX/parquet_duckdb_date_select --columns d0 --json

# a table's string column is left out (and says why) in text and --json;
# named columns leave the others out by name, in the order asked for
$SL inspect $FIX/parquet_duckdb_i32_zstd_select
$SL inspect $FIX/parquet_duckdb_i32_zstd_select --json
$SL inspect $FIX/parquet_duckdb_i32_zstd_select --columns v2,id | head -5

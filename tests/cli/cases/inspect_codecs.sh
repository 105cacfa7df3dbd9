# the codecs a table's chunks use: BROTLI (arrow-rs) and zstd (DuckDB), and
# the conversion --dtype makes of each column
$SL inspect $FIX/parquet_arrowrs_brotli_f8
$SL inspect $FIX/parquet_duckdb_mixed_cast_f32 --dtype float32 | head -7
$SL inspect $FIX/parquet_duckdb_i64_zstd --json

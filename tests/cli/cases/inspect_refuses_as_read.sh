# a shard read refuses is refused by inspect with the same message and exit
# code: nulls the metadata reports (Parquet statistics, Arrow field nodes),
# a bad header, a dataset that is not there, a truncated Blosc chunk (its
# header's sizes against the file's)
for c in parquet_duckdb_bad_nulls arrow_js_bad_nulls npy_bad_header h5_bad_missing_dataset zarr2_bad_truncated_chunk/data.zarr; do
  i=0; r=0
  $SL inspect $FIX/$c >/dev/null 2>$T/i.err || i=$?
  $SL read $FIX/$c >/dev/null 2>$T/r.err || r=$?
  same=no; cmp -s $T/i.err $T/r.err && same=yes
  echo "$c: inspect $i, read $r, same message: $same"
done
$SL inspect $FIX/parquet_duckdb_bad_nulls

$SL read $FIX/parquet_duckdb_bad_cast_float_to_int --columns label,x --dtype int64 --cast unsafe --output $T/u.npy >/dev/null
$SL read $FIX/parquet_duckdb_bad_cast_float_to_int --columns x --output $T/x.npy >/dev/null
/usr/bin/python3 -c "import numpy as np; u = np.load('$T/u.npy'); x = np.load('$T/x.npy'); print(u.dtype, u.shape, bool((u[:, 1] == x[:, 0].astype('i8')).all()))"

# fixed-size lists convert element by element (Parquet decodes them straight
# into the tile, Arrow through the casting gather), as numpy astype does
for c in parquet_arrowrs_fsl_f4x8 arrow_js_fsl_f4x16 arrow_js_i64_lz4; do
  $SL read $FIX/$c --output $T/$c.npy >/dev/null
  $SL read $FIX/$c --dtype float64 --output $T/$c.f8.npy >/dev/null
  /usr/bin/python3 -c "import numpy as np; a = np.load('$T/$c.npy'); b = np.load('$T/$c.f8.npy'); print('$c', b.dtype, b.shape == a.shape, np.array_equal(a.astype('f8'), b, equal_nan=True))"
done

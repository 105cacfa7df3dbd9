# each command's --help lists its own options only, and every format built in
$SL read --help > $T/read
$SL inspect --help > $T/inspect
$SL write --help > $T/write
grep -q -- '--variant' $T/read && ! grep -q -- '--variant' $T/inspect
grep -q -- '--shape' $T/write && ! grep -q -- '--shape' $T/read && ! grep -q -- '--verify' $T/write
for f in npy hdf5 raw parquet arrow zarr; do
  grep -q "formats built in:.*$f" $T/read || { echo "read --help lacks $f"; exit 1; }
done
$SL clean --help | head -1
$SL read --help | head -1

# ** takes a Zarr store whole (never its chunk files), with or without
# --format zarr, which passes over ordinary folders
mkdir -p $T/zz/a
cp -r $FIX/zarr2_f4_blosc_lz4_tiles/data.zarr $T/zz/a/s1.zarr
cp -r $FIX/zarr2_f4_blosc_lz4_tiles/data.zarr $T/zz/a/s2.zarr
$SL inspect $T/zz --pattern '**' | grep -E '^/|^  \['
$SL inspect $T/zz --pattern '**' --format zarr | head -1
$SL inspect $T/zz --pattern '**/*.zarr' | head -1

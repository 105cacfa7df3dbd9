# A Zarr fill value outside any integer's range (1e300) is printed as a
# number, with no conversion to an integer (undefined behaviour) on the way
mkdir $T/z.zarr
cat > $T/z.zarr/.zarray <<'J'
{"chunks":[5,2],"compressor":null,"dtype":"<f8","fill_value":1e300,"filters":null,"order":"C","shape":[10,2],"zarr_format":2}
J
$SL inspect $T/z.zarr | grep -o 'fill_value .*'
sed -i 's/1e300/-1e300/' $T/z.zarr/.zarray
$SL inspect $T/z.zarr | grep -o 'fill_value .*'

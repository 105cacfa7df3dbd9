# a Zarr v3 shard cut short: inspect checks each shard's index (checksum,
# entries inside the file) as read does, and refuses it with read's message
cp -r $FIX/zarr3_sharded_i4_crc32c $T/zs
chmod -R u+w $T/zs
$SL inspect $T/zs/data.zarr >/dev/null && echo "intact: inspect 0"
truncate -s -10 $T/zs/data.zarr/c/3/0
i=0; r=0
$SL inspect $T/zs/data.zarr >/dev/null 2>$T/i.err || i=$?
$SL read $T/zs/data.zarr >/dev/null 2>$T/r.err || r=$?
same=no; cmp -s $T/i.err $T/r.err && same=yes
echo "cut: inspect $i, read $r, same message: $same"
cat $T/i.err

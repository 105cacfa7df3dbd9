$SL write $T/d --shape 10,2 --num-shards 2 >/dev/null
$SL read $T/d --output $T/all.bin || echo "rc=$?"
$SL read $T/d --output $T/.npy || echo "rc=$?"
$SL read $T/d --output $T/all.npy | grep -E '^(verify|output):'
[ ! -e $T/all.bin ]

# options of read are refused by inspect (this exited 0 and ignored them)
$SL write $T/d --shape 10,2 --num-shards 2 >/dev/null
$SL inspect $T/d --variant gpu --verify --output $T/x.npy || echo "rc=$?"
$SL write $T/e --shape 10,2 --verify || echo "rc=$?"
$SL read $T/d --shard-dir $T/d || echo "rc=$?"
$SL read $T/d --variant cpu --device 0 || echo "rc=$?"
$SL clean $T/d $T/e || echo "rc=$?"
[ ! -e $T/x.npy ] && [ ! -e $T/e ]

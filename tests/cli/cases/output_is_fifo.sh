$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
mkfifo $T/out.npy
rc=0; timeout 20 $SL read $T/ds --output $T/out.npy || rc=$?
[ -p $T/out.npy ] && exit $rc

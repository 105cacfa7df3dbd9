$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
mknod $T/null.npy c 1 3
rc=0; $SL read $T/ds --output $T/null.npy || rc=$?
[ -c $T/null.npy ] && exit $rc

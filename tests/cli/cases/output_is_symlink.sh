$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
echo keep > $T/target; ln -s $T/target $T/out.npy
rc=0; $SL read $T/ds --output $T/out.npy || rc=$?
[ -L $T/out.npy ] && [ "$(cat $T/target)" = keep ] && exit $rc

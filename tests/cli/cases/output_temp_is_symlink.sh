$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
echo keep > $T/target; ln -s $T/target $T/out.npy.shardload-tmp
rc=0; $SL read $T/ds --output $T/out.npy || rc=$?
[ "$(cat $T/target)" = keep ] && [ ! -e $T/out.npy ] && exit $rc

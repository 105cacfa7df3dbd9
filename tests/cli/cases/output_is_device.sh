$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
rc=0; $SL read $T/ds --output /dev/null || rc=$?
[ -c /dev/null ] && exit $rc

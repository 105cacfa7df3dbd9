$SL write $T/ds --shape 100,2 --num-shards 3 --seed 5 >/dev/null
before=$(cd $T/ds && sha256sum *)
rc=0; $SL write $T/ds --format parquet --dtype complex64 --shape 10,2 --force || rc=$?
[ "$(cd $T/ds && sha256sum *)" = "$before" ] && [ "$(ls -A $T/ds | wc -l)" = 4 ] && $SL read $T/ds --verify | grep -q "verify: ok (pattern)" && exit $rc

# a --fill-nulls value the dtype cannot hold is refused by inspect as by
# read (Arrow parsed it only when reading), exit 2 for both
c=arrow_js_bad_nulls
i=0; r=0
$SL inspect $FIX/$c --fill-nulls abc >/dev/null 2>$T/i.err || i=$?
$SL read $FIX/$c --fill-nulls abc >/dev/null 2>$T/r.err || r=$?
same=no; cmp -s $T/i.err $T/r.err && same=yes
echo "inspect $i, read $r, same message: $same"
cat $T/i.err

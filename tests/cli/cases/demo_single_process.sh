TMPDIR=$T $SL demo
ls $T

$SL write $T/ds --shape 100,2 --num-shards 2 >/dev/null
head -c 100000 /dev/zero > $T/out.npy.shardload-tmp
$SL read $T/ds --output $T/out.npy >/dev/null
ls $T | grep -c shardload-tmp || true
/usr/bin/python3 -c "import numpy,sys; a=numpy.load(sys.argv[1]); assert a.shape==(100,2), a.shape" $T/out.npy

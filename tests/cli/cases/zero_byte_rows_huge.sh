mkdir $T/a $T/b
/usr/bin/python3 -c "
import numpy.lib.format as f, sys
for path, shape, d in ((sys.argv[1], (2**62, 0), '<f4'), (sys.argv[2], (2**40, 0), '<u1')):
    with open(path, 'wb') as o: f.write_array_header_1_0(o, {'descr': d, 'fortran_order': False, 'shape': shape})
" $T/a/shard_0000.npy $T/b/shard_0000.npy
timeout 30 $MPIEXEC -n 3 $SL read $T/a --verify --output $T/a.npy | grep -E '^(verify|output):'
timeout 30 $MPIEXEC -n 2 $SL read $T/b --verify | grep -E '^(verify|output):'
timeout 30 $SL read $T/b --verify --variant cpu | grep -E '^(verify|output):'

# what was looked for, and a --pattern that reads what is there
/usr/bin/python3 -c "import numpy as np, os, sys; d=sys.argv[1]; os.makedirs(d); [np.save(f'{d}/{i}.npy', np.zeros((2, 2))) for i in range(3)]" $T/stack
$SL read $T/stack || echo "rc=$?"
$SL write $T/a --shape 10,2 --num-shards 1 >/dev/null
$SL write $T/b --shape 10,2 --num-shards 1 --format parquet >/dev/null
$SL read $T/a $T/b || echo "rc=$?"

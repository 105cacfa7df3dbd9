# a shell glob's expansion, files and folders in the order given
$SL write $T/a --shape 100,3 --num-shards 3 >/dev/null
$SL write $T/b --shape 50,3 --num-shards 2 --seed 1 >/dev/null
$SL read $T/a/*.npy $T/b --verify --output $T/all.npy | grep -E '^(verify|output):'
$SL inspect $T/b $T/a/shard_0001.npy --json | grep -o '"num_shards":[0-9]*'
/usr/bin/python3 - $T <<'PY'
import numpy as np, sys, glob
t = sys.argv[1]
parts = [np.load(f) for f in sorted(glob.glob(t + "/a/*.npy")) + sorted(glob.glob(t + "/b/*.npy"))]
assert np.array_equal(np.load(t + "/all.npy"), np.concatenate(parts))
print("equal")
PY

# patterns across folders and at any depth, Hive folders, sidecars never shards
/usr/bin/python3 - $T <<'PY'
import numpy as np, os, sys
t = sys.argv[1]
for d in ("glob1", "glob2", "deep/x/y"):
    os.makedirs(f"{t}/p/{d}", exist_ok=True)
    for i in (1, 10, 2):
        np.save(f"{t}/p/{d}/part-{i}.npy", np.full((i, 2), i, "<f4"))
for k in ("year=2023/month=1", "year=2023/month=10", "year=2024/month=2"):
    os.makedirs(f"{t}/h/{k}", exist_ok=True)
    np.save(f"{t}/h/{k}/part-0.npy", np.full((2, 2), len(k), "<f4"))
open(f"{t}/h/_SUCCESS", "w").close()
open(f"{t}/h/year=2023/.part-0.npy.crc", "w").close()
PY
$SL inspect $T/p --pattern 'glob*/part-*.npy' | grep '^  \['
$SL inspect $T/p --pattern '**/*.npy' --json | grep -o '"num_shards":[0-9]*'
$SL inspect $T/h | grep -E '^/|^  \['
$SL write $T/w --shape 10,2 --num-shards 2 >/dev/null
$SL inspect $T/w --pattern '*' | head -1

#!/usr/bin/python3
"""Benchmark: shardload reads of several (binary, dataset) pairs, whole
process, alternating their order each repetition in one run; prints the
medians of load_seconds, wall time and CPU time (user + sys, which a busy
machine disturbs less than wall time).

    /usr/bin/python3 bench/alternate.py REPS THREADS arrow=build/tools/shardload:ARROWDIR \
        npy=build/tools/shardload:NPYDIR [old=/tmp/old-shardload:ARROWDIR ...]
"""
import json, resource, statistics, subprocess, sys, time
reps = int(sys.argv[1]); threads = sys.argv[2]; pairs = [a.split("=", 1) for a in sys.argv[3:]]
res = {l: [] for l, _ in pairs}
for r in range(reps):
    order = pairs if r % 2 == 0 else pairs[::-1]
    for label, spec in order:
        b, p = spec.split(":", 1)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.monotonic()
        q = subprocess.run([b, "read", p, "--threads", threads, "--json"], capture_output=True, text=True)
        wall = time.monotonic() - t
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if q.returncode: sys.exit(q.stderr)
        j = json.loads(q.stdout)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        res[label].append((j["load_seconds"], wall, cpu))
for label, v in res.items():
    m = lambda i: statistics.median(x[i] for x in v)
    print(f"{label:12s} load median {m(0):.3f} s (min {min(x[0] for x in v):.3f})  wall median {m(1):.3f} s  cpu median {m(2):.3f} s  (n={len(v)})")

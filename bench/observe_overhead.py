#!/usr/bin/python3
"""Benchmark (not a test): what --progress and --trace cost a read, whole
process, against the same read without them, the three alternating (each
in every place of the order equally often); prints medians of wall time,
of the report's load_seconds and of CPU time, and the ratio to the plain
read.

    /usr/bin/python3 bench/observe_overhead.py SHARDLOAD DATASET [REPS] [-- EXTRA READ ARGS]

The dataset should be warm in the page cache (a first untimed read makes
it so) and large enough (1-2 GiB) that the read dominates; on the shared
2-core VMs compare only figures of one run (DESIGN.md)."""
import json, os, resource, statistics, subprocess, sys, tempfile, time


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    sl, data = argv[0], argv[1]
    reps = int(argv[2]) if len(argv) > 2 else 11
    with tempfile.TemporaryDirectory() as t:
        modes = [("plain", []), ("progress", ["--progress=always"]),
                 ("trace", ["--trace", os.path.join(t, "t.json")])]
        subprocess.run([sl, "read", data, *extra], capture_output=True, check=True)  # warm
        res = {m: [] for m, _ in modes}
        for r in range(reps):
            # each mode in each place of the order equally often: a read
            # right after another one can pay for the memory it freed
            k = r % len(modes)
            order = modes[k:] + modes[:k]
            for m, flags in (order if (r // len(modes)) % 2 == 0 else order[::-1]):
                ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.monotonic()
                p = subprocess.run([sl, "read", data, "--json", *flags, *extra],
                                   capture_output=True, text=True)
                wall = time.monotonic() - t0
                ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                if p.returncode != 0:
                    sys.exit(p.stderr)
                cpu = ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime
                res[m].append((wall, json.loads(p.stdout)["load_seconds"], cpu))
    med = lambda v, i: statistics.median(x[i] for x in v)
    base = med(res["plain"], 0)
    for m, v in res.items():
        print(f"{m:9s} wall median {med(v, 0):.3f} s ({med(v, 0) / base:.3f}x plain, min "
              f"{min(x[0] for x in v):.3f})  load median {med(v, 1):.3f} s  cpu median "
              f"{med(v, 2):.3f} s  (n={len(v)})")


if __name__ == "__main__":
    main()

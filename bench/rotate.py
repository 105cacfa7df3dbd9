#!/usr/bin/python3
"""Benchmark: any number of shardload binaries on one dataset, each
repetition in another order, whole process, same run.

Pass two copies of the same binary among them (an A/A control): the gap
between those copies is this machine's noise. A gap between old and new is
worth believing only when it is clearly bigger. Prints the median and mean
of the load time each binary reports (`load_seconds`), and its wall time.

    /usr/bin/python3 bench/rotate.py DIR OLD OLD_COPY NEW NEW_COPY [--reps 24]
"""
import argparse
import itertools
import json
import statistics
import subprocess
import sys
import time


def run(binary, path, threads):
    t = time.monotonic()
    p = subprocess.run([binary, "read", path, "--threads", str(threads), "--json"],
                       capture_output=True, text=True)
    wall = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"{binary}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
    return wall, json.loads(p.stdout)["load_seconds"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path")
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--reps", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    orders = list(itertools.permutations(range(len(a.binaries))))
    res = {i: [] for i in range(len(a.binaries))}
    for r in range(a.reps):
        order = orders[r % len(orders)]
        # untimed: the first process after a pause pays for memory the host
        # took back (bench/README.md, bench_compare.py)
        run(a.binaries[order[-1]], a.path, a.threads)
        for i in order:
            res[i].append(run(a.binaries[i], a.path, a.threads))
    print(f"{'binary':44s} {'load med':>9s} {'load mean':>9s} {'wall med':>9s}")
    for i, b in enumerate(a.binaries):
        load = [x[1] for x in res[i]]
        wall = [x[0] for x in res[i]]
        print(f"{b[-44:]:44s} {statistics.median(load):9.3f} {statistics.mean(load):9.3f} "
              f"{statistics.median(wall):9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

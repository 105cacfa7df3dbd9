#!/usr/bin/python3
"""The command under mpiexec at 1-4 ranks: partitions, reports, discovery
done once, more ranks than rows, the demo, and the launcher detection."""
import json, os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import args, check, run, summary  # noqa: E402





def main():
    a = args()
    with tempfile.TemporaryDirectory() as t:
        d = os.path.join(t, "d")
        p = run(a, "write", d, "--shape", "10007,3", "--dtype", "float64", "--num-shards", "7",
                "--seed", "11", n=2, show=True)
        check(p.returncode == 0, "write under 2 ranks")
        ref = np.concatenate([np.load(os.path.join(d, f"shard_{i:04d}.npy")) for i in range(7)])
        for n in (1, 2, 3, 4):
            for part in ("balanced", "tiled"):
                out = os.path.join(t, f"o{n}{part}.npy")
                p = run(a, "read", d, "--json", "--verify", "--partition", part, "--output", out, n=n, show=True)
                ok = p.returncode == 0
                check(ok, f"{n} ranks {part}: exit 0")
                if not ok:
                    continue
                r = json.loads(p.stdout)
                check(r["files_probed"] == 7, f"{n} ranks: 7 files opened for metadata, not {r['files_probed']}")
                check(r["ranks"] == n, f"{n} ranks reported")
                rows = [x["rows"] for x in r["per_rank"]]
                N = 10007
                if part == "tiled":
                    tile = -(-N // n)
                    want = [max(0, min(tile, N - i * tile)) for i in range(n)]
                else:
                    want = [(i + 1) * N // n - i * N // n for i in range(n)]
                check(rows == want, f"{n} ranks {part}: rows {rows} == {want}")
                check(r["verify"] == "pattern", f"{n} ranks {part}: verified")
                check(np.array_equal(np.load(out), ref), f"{n} ranks {part}: output equals numpy's concatenate")
        # more ranks than rows
        small = os.path.join(t, "small")
        run(a, "write", small, "--shape", "3,2", "--num-shards", "2", show=True)
        p = run(a, "read", small, "--json", "--verify", n=4, show=True)
        check(p.returncode == 0, "4 ranks, 3 rows: exit 0")
        if p.returncode == 0:
            rows = [x["rows"] for x in json.loads(p.stdout)["per_rank"]]
            check(sorted(rows) == [0, 1, 1, 1], f"4 ranks, 3 rows: {rows}")
        p = run(a, "read", d, "--json", "--min-rows", "6000", n=3, show=True)
        if p.returncode == 0:
            rows = [x["rows"] for x in json.loads(p.stdout)["per_rank"]]
            check(rows == [10007, 0, 0], f"--min-rows 6000 keeps one tile: {rows}")
        else:
            check(False, "--min-rows run")
        # text report: one line per rank with rows and files
        p = run(a, "read", d, n=3, show=True)
        lines = [l for l in p.stdout.splitlines() if l.strip().startswith("rank ")]
        check(len(lines) == 3 and all("files)" in l and "GB/s" in l for l in lines),
              "text report has a line per rank with files and GB/s")
        # SHARDLOAD_MPI=0 under mpiexec: each process loads alone
        p = run(a, "read", d, "--json", env={"SHARDLOAD_MPI": "0"}, n=2, show=True)
        outs = [l for l in p.stdout.splitlines() if l.startswith("{")]
        check(len(outs) == 2 and all(json.loads(o)["ranks"] == 1 for o in outs),
              "SHARDLOAD_MPI=0: two independent single-process loads")
        # a plain process forced onto MPI still works (singleton init)
        p = run(a, "read", d, "--json", env={"SHARDLOAD_MPI": "1"}, show=True)
        check(p.returncode == 0 and json.loads(p.stdout)["ranks"] == 1, "SHARDLOAD_MPI=1 singleton")
        p = run(a, "demo", env={"TMPDIR": t}, n=3, show=True)
        check(p.returncode == 0 and "demo: ok" in p.stdout and "3 ranks" in p.stdout, "demo at 3 ranks")
    return summary()


if __name__ == "__main__":
    sys.exit(main())

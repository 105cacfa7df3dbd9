#!/usr/bin/python3
"""The command under mpiexec at 1-4 ranks: partitions, reports, discovery
done once, files opened once per reading rank, a shard replaced between
discovery and the load named on every rank, more ranks than rows, the demo,
and the launcher detection."""
import json, os, re, shutil, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import args, check, run, summary  # noqa: E402



def replaced_between_open_and_load(a, t, d):
    """SHARDLOAD_TEST_AFTER_OPEN runs on rank 0 after discovery, every rank
    waiting: shard 3 is replaced then by a file of wider rows. Every rank
    must stop with the one message naming it, none may crash or load."""
    wide = os.path.join(t, "wide")
    run(a, "write", wide, "--shape", "2000,6", "--dtype", "float64", "--num-shards", "7",
        "--seed", "11", show=True)
    c = os.path.join(t, "changed")
    shutil.copytree(d, c)
    target = os.path.join(c, "shard_0003.npy")
    swap = f"cp {wide}/shard_0003.npy {c}/new && mv {c}/new {target}"
    for n in (1, 2, 3, 4):
        for io in ("buffered", "direct"):
            shutil.copy(os.path.join(d, "shard_0003.npy"), target)  # as discovery will see it
            out = os.path.join(t, f"x{n}.npy")
            p = run(a, "read", c, "--io", io, "--output", out, n=n,
                    env={"SHARDLOAD_TEST_AFTER_OPEN": swap})
            lines = [l for l in p.stderr.splitlines() if l.startswith("shardload: ")]
            ok = (p.returncode == 1 and len(lines) == 1 and "shard_0003.npy changed since the "
                  "dataset was opened" in lines[0] and not os.path.exists(out))
            check(ok, f"{n} ranks, io {io}: a replaced shard is named once, exit 1: {lines}")


def failing_rank_in_json(a, t, d):
    """--json on a failure names the lowest failing rank: shard 3 replaced
    after discovery fails the ranks that read it, the lowest of which the
    object names, with the status and the one message."""
    p = run(a, "read", d, "--json", n=4)
    want = min(x["rank"] for x in json.loads(p.stdout)["per_rank"]
               if x["rows"] > 0 and x["first_shard"] <= 3 <= x["last_shard"])
    c = os.path.join(t, "changed_json")
    shutil.copytree(d, c)
    target = os.path.join(c, "shard_0003.npy")
    p = run(a, "read", c, "--json", n=4, env={"SHARDLOAD_TEST_AFTER_OPEN": f"touch -d 2001-01-01 {target}"})
    outs = [l for l in p.stdout.splitlines() if l.startswith("{")]
    j = json.loads(outs[0]) if len(outs) == 1 else {}
    check(p.returncode == 1 and len(outs) == 1 and j.get("ok") is False and
          j.get("status") == "SL_ECHANGED" and j.get("rank") == want and want > 0 and
          "shard_0003.npy" in j.get("message", "") and j.get("schema") == 1,
          f"4 ranks --json failure: one object naming rank {want}: {outs}")


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
        # each file opened once by each rank that reads it
        for n in (1, 3):
            p = run(a, "read", d, "--json", "--io", "buffered", n=n, show=True)
            if p.returncode == 0:
                r = json.loads(p.stdout)["per_rank"]
                check(all(x["files_opened"] == x["files"] for x in r),
                      f"{n} ranks: one open per file read: {[(x['files'], x['files_opened']) for x in r]}")
        replaced_between_open_and_load(a, t, d)
        failing_rank_in_json(a, t, d)
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
        check(len(lines) == 3 and all(re.search(r"\(\d+ files?\)", l) and "GB/s" in l
                                      for l in lines),
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

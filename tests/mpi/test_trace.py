#!/usr/bin/python3
"""read --trace FILE.json at 1 and 3 ranks, for npy (pieces read in place)
and Parquet (pieces a driver decodes): the file is one valid Chrome trace
whose piece spans, per rank and in all, cover exactly the rows read, each
once; every rank is a process named "rank N (host)" with named threads;
every rank has its phases (discover on rank 0; broadcast beyond one rank;
allocate, read, agree; verify and output when asked); Parquet's pieces say
"decoded" and hold decode spans. The trace is refused where --output would
be (onto an input, a directory, the --output itself), inputs unchanged."""
import hashlib, json, os, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import args, check, run, summary  # noqa: E402


def digest(d):
    h = hashlib.sha256()
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            h.update(name.encode() + f.read())
    return h.hexdigest()


def check_trace(path, report, n, fmt, asked):
    with open(path) as f:
        tr = json.load(f)
    ev = tr["traceEvents"]
    what = f"{fmt} at {n} rank{'s' if n > 1 else ''}"
    pieces = [e for e in ev if e.get("cat") == "piece"]
    N = report["shape"][0]
    check(all(e["ph"] == "X" and e["dur"] >= 0 and e["ts"] >= 0 for e in ev if e["ph"] != "M"),
          f"{what}: complete events with times")
    check({e["pid"] for e in ev} == set(range(n)), f"{what}: one process per rank")
    names = {e["pid"]: e["args"]["name"] for e in ev if e["name"] == "process_name"}
    hosts = {r["rank"]: r["host"] for r in report["per_rank"]}
    check(names == {r: f"rank {r} ({hosts[r]})" for r in range(n)},
          f"{what}: processes named 'rank N (host)': {names}")
    threads = {(e["pid"], e["tid"]) for e in ev if e["name"] == "thread_name"}
    check({(e["pid"], e["tid"]) for e in ev if e["ph"] == "X"} <= threads,
          f"{what}: every span's thread is named")
    check(sum(e["args"]["rows"] for e in pieces) == N,
          f"{what}: piece spans' rows add up to the {N} rows read")
    for r in report["per_rank"]:
        mine = [e for e in pieces if e["pid"] == r["rank"]]
        check(sum(e["args"]["rows"] for e in mine) == r["rows"] and
              all(r["row_lo"] <= e["args"]["row_lo"] < e["args"]["row_hi"] <= r["row_hi"]
                  for e in mine), f"{what}: rank {r['rank']}'s pieces are its rows")
    spans = sorted((e["args"]["row_lo"], e["args"]["row_hi"]) for e in pieces)
    check(all(a[1] == b[0] for a, b in zip(spans, spans[1:])) and spans[0][0] == 0 and
          spans[-1][1] == N, f"{what}: pieces tile [0, {N}) without overlap")
    check(sum(e["args"]["bytes"] for e in pieces) == report["nbytes"], f"{what}: bytes add up")
    check(all(e["args"]["file"].endswith(f"shard_{e['args']['shard']:04d}.{fmt}")
              for e in pieces), f"{what}: each piece names its file")
    for r in range(n):
        have = {e["name"] for e in ev if e["pid"] == r and e.get("cat") == "phase"}
        want = {"allocate", "read", "agree", "open shards"} | set(asked)
        want |= {"discover"} if r == 0 else set()
        want |= {"broadcast"} if n > 1 else set()
        check(want <= have, f"{what}: rank {r} has its phases {sorted(want - have)} missing")
    if fmt == "parquet":
        check(all(e["args"]["path"] == "decoded" for e in pieces), f"{what}: pieces decoded")
        dec = [e for e in ev if e.get("cat") == "decode" and e["name"] == "decode"]
        check(len(dec) == len(pieces), f"{what}: a decode span per piece ({len(dec)})")
    else:
        check(all(e["args"]["path"] in ("direct", "cached", "buffered", "mixed")
                  for e in pieces), f"{what}: pieces say their path")


def compressed(a, t):
    """A compressed Parquet fixture: decompress spans, each inside a decode
    span of its thread (the codec table records them for every driver)."""
    fx = os.path.join(os.environ.get("SL_FIXTURES", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "../../../shared/fixtures")),
        "parquet_duckdb_i64_zstd")
    if not os.path.isdir(fx):
        print(f"SKIPPED (compressed): no fixture {fx}")
        return
    tr = os.path.join(t, "zstd.json")
    p = run(a, "read", fx, "--trace", tr, show=True)
    if not check(p.returncode == 0, "zstd Parquet fixture: exit 0"):
        return
    ev = json.load(open(tr))["traceEvents"]
    dec = [e for e in ev if e.get("cat") == "decode" and e["name"] == "decode"]
    unz = [e for e in ev if e.get("cat") == "decode" and e["name"] == "decompress"]
    inside = all(any(d["tid"] == u["tid"] and d["ts"] <= u["ts"] and
                     u["ts"] + u["dur"] <= d["ts"] + d["dur"] + 0.002 for d in dec) for u in unz)
    check(len(unz) > 0 and inside, f"{len(unz)} decompress spans, each inside a decode span")


def refusals(a, t, d):
    before = digest(d)
    p = run(a, "read", d, "--trace", os.path.join(d, "shard_0000.npy"))
    check(p.returncode == 2 and "shard_0000.npy" in p.stderr, f"onto an input: {p.stderr.strip()}")
    os.mkdir(os.path.join(t, "dir.json"))
    p = run(a, "read", d, "--trace", os.path.join(t, "dir.json"), n=2)
    first = p.stderr.strip().splitlines()[:1]
    check(p.returncode == 2 and "dir.json" in p.stderr, f"onto a directory: {first}")
    same = os.path.join(t, "same.npy")
    p = run(a, "read", d, "--trace", same, "--output", same)
    check(p.returncode == 2 and not os.path.exists(same), "--trace and --output the same file")
    p = run(a, "read", d, "--trace", os.path.join(t, ".", "o2.npy"), "--output",
            os.path.join(t, "o2.npy"))
    check(p.returncode == 2 and "--output" in p.stderr, f"the output by another name: "
          f"{p.stderr.strip()}")
    check(digest(d) == before, "inputs unchanged")
    check(not [f for f in os.listdir(t) if "shardload-tmp" in f], "no temporary file left")


def main():
    a = args()
    with tempfile.TemporaryDirectory() as t:
        for fmt in ("npy", "parquet"):
            d = os.path.join(t, fmt)
            p = run(a, "write", d, "--shape", "20011,3", "--num-shards", "5", "--format", fmt,
                    "--seed", "3", show=True)
            if p.returncode != 0 and fmt == "parquet":
                print("SKIPPED (parquet): write --format parquet failed:", p.stderr.strip())
                continue
            for n in (1, 3):
                tr = os.path.join(t, f"{fmt}{n}.json")
                extra = ["--verify", "--output", os.path.join(t, f"{fmt}{n}.npy")] if n == 3 else []
                p = run(a, "read", d, "--trace", tr, "--json", "--chunk-mib", "1", *extra, n=n,
                        show=True)
                if not check(p.returncode == 0, f"{fmt} at {n} ranks: exit 0"):
                    continue
                check_trace(tr, json.loads(p.stdout), n, fmt, ["verify", "output"] if extra else [])
        compressed(a, t)
        refusals(a, t, os.path.join(t, "npy"))
    return summary()


if __name__ == "__main__":
    sys.exit(main())

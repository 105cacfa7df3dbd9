# --json on success: ok, version, schema; per rank its host, the I/O that
# ran (io, with io_bytes adding up to its bytes) and the mode asked
# (io_asked); across ranks seconds and gbps as min/mean/max, beside the old
# top-level numbers
$SL write $T/d --shape 30000,4 --num-shards 5 >/dev/null
$MPIEXEC -n 3 $SL read $T/d --json --io buffered > $T/a.json
$SL read $T/d --json --io direct > $T/b.json
/usr/bin/python3 - $T/a.json $T/b.json <<'PY'
import json, socket, sys
def ran(by):  # the I/O that ran, from its bytes
    used = [k for k, v in by.items() if v > 0]
    return "none" if not used else used[0] if len(used) == 1 else "mixed"
for path in sys.argv[1:]:
    j = json.load(open(path))
    assert j["ok"] is True and j["version"] == "0.2.0" and j["schema"] == 1, j
    assert isinstance(j["seconds"], float) and isinstance(j["gbps"], float)
    for k in ("rank_seconds", "rank_gbps"):
        s = j[k]
        assert s["min"] <= s["mean"] <= s["max"], (k, s)
    assert j["rank_seconds"]["max"] == j["seconds"]
    for r in j["per_rank"]:
        assert r["host"] == socket.gethostname(), r["host"]
        assert sum(r["io_bytes"].values()) == r["bytes"], r
        assert r["io"] == ran(r["io_bytes"]), (r["io"], r["io_bytes"])
    print(len(j["per_rank"]), "ranks, asked", ", ".join(sorted({r["io_asked"] for r in j["per_rank"]})),
          "ran", "buffered" if {r["io"] for r in j["per_rank"]} == {"buffered"} else "more")
PY

# --json is valid UTF-8 whatever the paths' bytes: a byte outside a valid
# sequence ("ctl" FF E2 82: a stray byte and a cut-off euro sign) comes out
# as U+FFFD in "path", a failure's "message", "output" and "trace", while
# valid sequences (u-umlaut, euro, an emoji) pass unchanged. (stderr, which
# names the files as they are, is left out: this runner decodes it.)
bad=$(printf 'ctl\377\342\202')
good=$(printf 'ok\303\274\342\202\254\360\237\230\200')
mkdir "$T/$bad" "$T/$good"
$SL write "$T/$bad/w" --shape 10,2 --num-shards 2 >/dev/null
$SL write "$T/$good/w" --shape 10,2 --num-shards 2 >/dev/null
$SL read "$T/$bad/w" --json --output "$T/$bad/o.npy" --trace "$T/$bad/t.json" > $T/read.json
$SL inspect "$T/$bad/w" --json > $T/inspect.json
$SL read "$T/$bad/none" --json > $T/fail.json 2>/dev/null || echo "rc=$?"
$SL inspect "$T/$good/w" --json > $T/good.json
/usr/bin/python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
def load(name):  # strict: invalid UTF-8 raises
    return json.loads(open(f"{t}/{name}", "rb").read().decode("utf-8"))
def rel(p):
    return ascii(p[len(t) + 1:])
r, i, f, g = load("read.json"), load("inspect.json"), load("fail.json"), load("good.json")
print("read", rel(r["path"]), rel(r["output"]), rel(r["trace"]))
print("inspect", rel(i["path"]), rel(i["shards"][0]["path"]))
print("fail", f["ok"], rel(f["message"]))
print("good", rel(g["path"]))
PY

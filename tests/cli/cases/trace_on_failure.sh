# When the load, --verify or --output fails, --trace still writes the
# timeline of what ran (its phases up to the failing one), then the step's
# error and exit code are reported; a trace that cannot be written then is
# said after that error
$SL write $T/d --shape 1000,4 --num-shards 2 >/dev/null
cd $T
phases() {
  /usr/bin/python3 -c 'import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
print(" ".join(n for n in ("discover", "read", "verify", "output") if any(e.get("name") == n for e in ev)))' "$1"
}
SHARDLOAD_TEST_AFTER_OPEN="touch -d 2001-01-01 d/shard_0001.npy" $SL read d --trace t1.json || echo "rc=$?"
phases t1.json
cp -r d bad
printf '\377\377\377\377' | dd of=bad/shard_0000.npy bs=1 seek=300 conv=notrunc 2>/dev/null
$MPIEXEC -n 2 $SL read bad --verify --trace t2.json 2>err || echo "rc=$?"
grep -c 'verification failed' err
phases t2.json
$SL read d --output nodir/o.npy --trace t3.json --json || echo "rc=$?"
phases t3.json
$SL read d --output nodir/o.npy --trace nodir/t.json || echo "rc=$?"

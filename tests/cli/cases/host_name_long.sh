# A host name of 64 characters (Linux's most) has room in the report, at 1
# and 2 ranks, text and --json, rather than "?". Needs a UTS namespace of
# its own (unshare -u, as root or in a user namespace); where none can be
# made, the case says so and checks nothing.
$SL write $T/d --shape 100,3 --num-shards 2 >/dev/null
long=h234567890123456789012345678901234567890123456789012345678901234
for how in "unshare -u" "unshare -r -u"; do
  if $how sh -c "hostname $long" 2>/dev/null; then
    $how sh -c "hostname $long && $SL read $T/d > $T/text && $MPIEXEC -n 2 $SL read $T/d --json > $T/json"
    grep -q "rank 0 ($long):" $T/text
    /usr/bin/python3 -c "import json, sys
hosts = [r['host'] for r in json.load(open('$T/json'))['per_rank']]
assert hosts == ['$long'] * 2, hosts"
    echo "64-character host name: in the text and in 2 ranks' --json"
    exit 0
  fi
done
echo "64-character host name: not checked (no UTS namespace can be made here: unshare -u)"

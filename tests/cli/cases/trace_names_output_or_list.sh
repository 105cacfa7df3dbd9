# --trace onto the --output file or the --list file under another spelling
# (./o.npy, a linked directory, a symbolic link to the list) is refused
# before anything is read (the hook after discovery never runs), exit 2,
# naming both; --output onto the --list file likewise
$SL write $T/d --shape 100,3 --num-shards 2 >/dev/null
cd $T
export SHARDLOAD_TEST_AFTER_OPEN='echo the load began >&2'
$SL read d --output o.npy --trace ./o.npy || echo "rc=$?"
test -e o.npy || echo "no o.npy"
mkdir sub
ln -s sub link
$SL read d --output sub/o.npy --trace link/o.npy || echo "rc=$?"
echo d > lst.txt
$SL read --list lst.txt --trace ./lst.txt || echo "rc=$?"
$SL read --list lst.txt --trace $T/lst.txt --json || echo "rc=$?"
ln -s lst.txt lnk.txt
$SL read --list lnk.txt --trace lst.txt || echo "rc=$?"
test "$(cat lst.txt)" = d && echo "lst.txt kept"
echo d > l.npy
$SL read --list l.npy --output ./l.npy || echo "rc=$?"
test "$(cat l.npy)" = d && echo "l.npy kept"
$MPIEXEC -n 2 $SL read d --output o.npy --trace ./o.npy 2> err || echo "rc=$?"
grep -c 'names the --output file' err

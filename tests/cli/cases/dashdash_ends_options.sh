# A bare "--" ends the options: what follows is a PATH, even "--x.npy" or
# "--json", in the parser and in the look for --json before it
$SL write $T/d --shape 10,2 --num-shards 1 >/dev/null
cp $T/d/shard_0000.npy $T/--x.npy
cd $T
$SL inspect -- --x.npy | head -1
$SL read --json -- --x.npy | grep -o '"ok":true,"version":"[0-9.]*","schema":1,"path":"--x.npy"'
$SL read /nonexistent -- --json || echo "rc=$?"
$SL inspect -- --help || echo "rc=$?"
$SL read --trace -- d --progress=never | grep '^trace'

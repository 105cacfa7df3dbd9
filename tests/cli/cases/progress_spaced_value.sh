# --progress takes its value after '=' only: "--progress always" is the
# flag and a PATH; with no file of that name, a usage error that says how
# to write it (exit 2); with one, the PATH is read
$SL write $T/d --shape 10,2 --num-shards 2 >/dev/null
cd $T
$SL read d --progress always || echo "rc=$?"
$SL read d --progress never --json || echo "rc=$?"
$SL read d --progress=never | head -1
cp -r d always
$SL read d --progress always | head -1

# the text report: "1 file", sizes in the unit that fits, the summary last
$SL write $T/d --shape 25,1 --num-shards 1 >/dev/null
$SL read $T/d --verify --threads 1 --variant cpu  # no device note in a CUDA build
$SL write $T/e --shape 300000,1 --num-shards 2 >/dev/null
$SL read $T/e | sed -n '1p;$p'

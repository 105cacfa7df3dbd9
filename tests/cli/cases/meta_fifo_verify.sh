$SL write $T/ds --shape 10,2 >/dev/null
rm $T/ds/_meta.json; mkfifo $T/ds/_meta.json
timeout 20 $SL read $T/ds --verify

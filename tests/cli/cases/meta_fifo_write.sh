mkdir $T/ds; mkfifo $T/ds/_meta.json
timeout 20 $SL write $T/ds --shape 10,2

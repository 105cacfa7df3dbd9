mkdir $T/ds; mkfifo $T/ds/_meta.json
timeout 20 $SL clean $T/ds

mkfifo $T/x.npy
timeout 20 $SL read $T/x.npy

$SL read $T/missing

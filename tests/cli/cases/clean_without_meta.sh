mkdir $T/x && $SL clean $T/x

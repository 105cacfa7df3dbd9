$SL

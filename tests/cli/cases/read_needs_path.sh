$SL read

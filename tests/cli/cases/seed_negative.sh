$SL write $T/ds --shape 10,2 --seed -1

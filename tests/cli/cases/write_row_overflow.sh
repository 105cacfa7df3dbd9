$SL write $T/ds --shape 1,4611686018427387904,4

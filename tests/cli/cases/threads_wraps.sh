$SL read $T --threads 4294967297

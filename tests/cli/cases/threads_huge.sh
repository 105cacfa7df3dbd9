$SL read $T --threads 100000

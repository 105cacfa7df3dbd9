$SL read $T --threads

$SL read $T --chunk-mib 99999999999999

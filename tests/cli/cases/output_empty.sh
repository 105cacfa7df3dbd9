$SL read $T --output ""

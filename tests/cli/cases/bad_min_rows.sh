$SL read $T --min-rows 0

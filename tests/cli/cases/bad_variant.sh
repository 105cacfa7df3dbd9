$SL read $T --variant turbo

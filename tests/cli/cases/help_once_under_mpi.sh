# --help, --version and usage errors print once under mpiexec, like errors
$MPIEXEC -n 3 $SL --version | grep -c '^shardload '
$MPIEXEC -n 3 $SL read --help | grep -c '^usage:'
$MPIEXEC -n 3 $SL read --bogus 2>&1 | grep -c 'unknown option' || true

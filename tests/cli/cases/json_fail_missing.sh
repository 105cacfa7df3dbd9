# --json: a failure is one JSON object on standard output too, exit code unchanged
$SL read $T/nowhere --json

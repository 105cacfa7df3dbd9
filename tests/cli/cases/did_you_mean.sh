$SL read $T --treads 2 || echo "rc=$?"
$SL raed $T || echo "rc=$?"
$SL read $T --progres || echo "rc=$?"

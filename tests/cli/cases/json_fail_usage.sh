# --json on usage errors: the object, exit 2; before and after --json, and
# for an option the command does not take
$SL read --threads x --json $T || echo "rc=$?"
$SL read --json || echo "rc=$?"
$SL write $T/w --shape 10,2 --json || echo "rc=$?"
$SL read $T --json --output $T/x.bin || echo "rc=$?"

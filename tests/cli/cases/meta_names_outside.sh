mkdir -p $T/p
echo keep > $T/p/keep.txt; echo note > $T/p/ds_note
$SL write $T/p/ds --shape 10,2 --num-shards 2 >/dev/null
/usr/bin/python3 -c "
import json,sys; p=sys.argv[1]; j=json.load(open(p)); j['files'] += ['..', '.', '', '../keep.txt', 'x/../../keep.txt']; json.dump(j, open(p,'w'))
" $T/p/ds/_meta.json
$SL write $T/p/ds --shape 10,2 --num-shards 1 --force >/dev/null
cat $T/p/keep.txt
$SL read $T/p/ds --verify | grep -E '^(verify|output):'
$SL clean $T/p/ds
cat $T/p/keep.txt $T/p/ds_note

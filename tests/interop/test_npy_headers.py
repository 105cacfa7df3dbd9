#!/usr/bin/python3
"""npy headers against numpy's own parser: shardload never accepts a header
numpy refuses (a file numpy cannot load is not data), and where both accept,
they agree on dtype and shape. Headers numpy accepts and shardload refuses
(dtypes it cannot stack, Python spellings such as u'<f4') are allowed."""
import argparse, os, struct, subprocess, sys, tempfile
import numpy as np


def mk(name, hdr, ver=(1, 0), data=b"\0" * 64):
    h = hdr.encode("latin1")
    pre = b"\x93NUMPY" + bytes(ver)
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    body = h + b" " * pad + b"\n"
    pre += struct.pack("<H" if ver[0] == 1 else "<I", len(body))
    open(name, "wb").write(pre + body + data)


cases = {
 'extra_key': "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}",
 'list_shape': "{'descr': '<f4', 'fortran_order': False, 'shape': [4]}",
 'float_dim': "{'descr': '<f4', 'fortran_order': False, 'shape': (4.0,)}",
 'neg_dim': "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,)}",
 'bool_dim': "{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}",
 'fo_int': "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,)}",
 'dup_key': "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}",
 'dq_keys': '{"descr": "<f4", "fortran_order": False, "shape": (4,)}',
 'no_comma_tuple': "{'descr': '<f4', 'fortran_order': False, 'shape': (4)}",
 'comment': "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)} # x",
 'pipe_f4': "{'descr': '|f4', 'fortran_order': False, 'shape': (4,)}",
 'noorder_f4': "{'descr': 'f4', 'fortran_order': False, 'shape': (4,)}",
 'hex_dim': "{'descr': '<f4', 'fortran_order': False, 'shape': (0x4,)}",
 'underscore_dim': "{'descr': '<f4', 'fortran_order': False, 'shape': (4_0,)}",
 'plus_dim': "{'descr': '<f4', 'fortran_order': False, 'shape': (+4,)}",
 'leading_zero': "{'descr': '<f4', 'fortran_order': False, 'shape': (04,)}",
 'space_in_str': "{'descr': '<f4 ', 'fortran_order': False, 'shape': (4,)}",
 'concat_str': "{'descr': '<f' '4', 'fortran_order': False, 'shape': (4,)}",
 'paren_true': "{'descr': '<f4', 'fortran_order': (False), 'shape': (4,)}",
 'fo_none': "{'descr': '<f4', 'fortran_order': None, 'shape': (4,)}",
 'ver_1_1': ("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", (1,1)),
 'ver_4_0': ("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", (4,0)),
 'ver_0_0': ("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", (0,0)),
 'no_newline': None,
 'nested_tuple': "{'descr': '<f4', 'fortran_order': False, 'shape': ((4,),)}",
 'two_dicts': "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}{}",
 'trailing_comma_dict': "{'descr': '<f4', 'fortran_order': False, 'shape': (4,),}",
 'escaped_str': "{'descr': '<\\x664', 'fortran_order': False, 'shape': (4,)}",
 'u_prefix': "{'descr': u'<f4', 'fortran_order': False, 'shape': (4,)}",
 'b_prefix': "{'descr': b'<f4', 'fortran_order': False, 'shape': (4,)}",
 'r_prefix': "{'descr': r'<f4', 'fortran_order': False, 'shape': (4,)}",
 'tab_ws': "{'descr':\t'<f4',\t'fortran_order': False, 'shape': (4,)}",
 'nul_in_header': "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}\0",
 'set_not_dict': "{'descr', '<f4'}",
 'descr_tuple': "{'descr': ('<f4', (1,)), 'fortran_order': False, 'shape': (4,)}",
 'big_dim_str': "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 0)}",
 'true_lower': "{'descr': '<f4', 'fortran_order': false, 'shape': (4,)}",
 'M8': "{'descr': '<M8[s]', 'fortran_order': False, 'shape': (4,)}",
 'U4': "{'descr': '<U1', 'fortran_order': False, 'shape': (4,)}",
 'c8_big': "{'descr': '>c8', 'fortran_order': False, 'shape': (4,)}",
 'f16': "{'descr': '<f16', 'fortran_order': False, 'shape': (4,)}",
 'b1': "{'descr': '|b1', 'fortran_order': False, 'shape': (4,)}",
 'lt_b1': "{'descr': '<b1', 'fortran_order': False, 'shape': (4,)}",
 'lt_u1': "{'descr': '<u1', 'fortran_order': False, 'shape': (4,)}",
 'i1_gt': "{'descr': '>i1', 'fortran_order': False, 'shape': (4,)}",
 'unicode_v3': "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True)
    a = ap.parse_args()
    bad = []
    with tempfile.TemporaryDirectory() as t:
        for name, c in cases.items():
            ver = (1, 0)
            if isinstance(c, tuple):
                c, ver = c
            fn = os.path.join(t, name + ".npy")
            if c is None:  # no newline at the end of the header
                h = b"{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}"
                pad = (64 - (10 + len(h)) % 64) % 64
                open(fn, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h) + pad) +
                                     h + b" " * pad + b"\0" * 64)
            else:
                mk(fn, c, ver)
            try:
                arr = np.load(fn)
                want = (str(arr.dtype.newbyteorder("=")), list(arr.shape))
            except Exception:
                want = None
            r = subprocess.run([a.shardload, "inspect", fn, "--json"], capture_output=True,
                               text=True, timeout=60)
            if r.returncode not in (0, 1):
                bad.append(f"{name}: exit {r.returncode}: {r.stderr.strip()}")
            elif r.returncode == 0 and want is None:
                bad.append(f"{name}: numpy refuses it, shardload accepts it")
            elif r.returncode == 1 and (name + ".npy") not in r.stderr:
                bad.append(f"{name}: the message does not name the file: {r.stderr.strip()}")
            elif r.returncode == 0:
                import json
                j = json.loads(r.stdout)
                got = (str(np.dtype(j["dtype"]).newbyteorder("=")), j["shape"])
                if got != want:
                    bad.append(f"{name}: shardload reads {got}, numpy {want}")
            print(f"{name}: numpy {'ok' if want else 'refuses'}, shardload exit {r.returncode}")
    for b in bad:
        print("FAIL", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""One fixture case from ../shared/fixtures at 1-4 ranks and every variant.

Each variant runs alone (no launcher) and under mpiexec; rank counts 2-4
take the variants in turn, and the I/O modes rotate, so every rank count,
variant and I/O mode is covered without paying mpiexec's start-up for every
combination.

Good cases: `shardload read --output` must produce the expected shape, dtype
and sha256 of the C-order little-endian bytes. Error cases: exit code 1 and a
one-line message naming the file to blame. ok_or_error: either, but if it
loads it must load right.
"""
import argparse, hashlib, json, os, subprocess, sys, tempfile

import numpy as np


# Open MPI's unloaded components leave leaks LeakSanitizer cannot attribute;
# leaks are checked in the single-process runs.
MPI_ENV = {"ASAN_OPTIONS": "detect_leaks=0"}


def launch(args, ranks, extra_env=None):
    env = dict(os.environ)
    env.update(extra_env or {})
    cmd = list(args.shardload)
    if ranks > 1:
        cmd = args.mpiexec.split() + ["-n", str(ranks)] + cmd
        env.update(MPI_ENV)
    return cmd, env


def run(args, ranks, argv):
    cmd, env = launch(args, ranks)
    p = subprocess.run(cmd + argv, capture_output=True, text=True, env=env, timeout=120)
    return p


def open_args(exp, case_dir):
    """PATH and options the case needs."""
    argv = []
    path = case_dir
    if exp.get("path"):  # a Zarr store, or "." for a directory of stores
        path = os.path.normpath(os.path.join(case_dir, exp["path"]))
    if exp.get("dataset_pattern"):
        path = os.path.join(case_dir, exp["files"][0])
        argv += ["--dataset", exp["dataset_pattern"]]
    elif exp.get("dataset"):
        argv += ["--dataset", exp["dataset"]]
    if exp.get("columns") and exp.get("format") in ("parquet", "arrow", "arrow_ipc"):
        if not exp.get("vector_column"):
            argv += ["--columns", ",".join(exp["columns"])]
        else:
            argv += ["--columns", exp["vector_column"]]
    return [path] + argv + exp.get("extra_flags", [])


def missing_feature(a, exp):
    """What this build lacks that the case needs (None: nothing)."""
    flags = exp.get("extra_flags", [])
    table = exp.get("format") in ("parquet", "arrow", "arrow_ipc")
    if table and "--dtype" in flags:
        p = subprocess.run(list(a.shardload) + ["--version"], capture_output=True, text=True)
        if "casts" not in p.stdout:
            return "casting table columns with --dtype is not in this build (issue P9)"
    return None


def check_ok(exp, out_path):
    a = np.load(out_path)
    want_dtype = np.dtype(exp["dtype"])
    if a.dtype.newbyteorder("<") != want_dtype.newbyteorder("<"):
        return f"dtype {a.dtype} != {want_dtype}"
    if list(a.shape) != list(exp["shape"]):
        return f"shape {a.shape} != {exp['shape']}"
    le = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<")))
    digest = hashlib.sha256(le.tobytes()).hexdigest()
    if digest != exp["sha256"]:
        return f"sha256 {digest} != {exp['sha256']}"
    return None


def check_error(exp, p):
    if p.returncode != 1:
        return f"exit {p.returncode}, expected 1; stderr: {p.stderr[-2000:]}"
    lines = [l for l in p.stderr.splitlines() if l.startswith("shardload: ")]
    if len(lines) != 1:
        return f"expected one 'shardload:' error line, got {len(lines)}: {p.stderr[-2000:]}"
    blame = exp.get("error_file")
    if blame and blame not in lines[0]:
        return f"message does not name {blame}: {lines[0]}"
    for bad in ("Sanitizer", "runtime error", "Segmentation", "core dumped"):
        if bad in p.stderr:
            return f"crash text in stderr: {p.stderr[-2000:]}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True, nargs="+")
    ap.add_argument("--mpiexec", default="mpiexec --allow-run-as-root --oversubscribe")
    ap.add_argument("--case", required=True)
    ap.add_argument("--ranks", default="1,2,3,4")
    ap.add_argument("--variants", default="cpu,omp")
    ap.add_argument("--all-combinations", action="store_true",
                    help="every rank count with every variant")
    a = ap.parse_args()
    exp = json.load(open(os.path.join(a.case, "expected.json")))
    kind = exp["expect"]
    lacking = missing_feature(a, exp)
    if lacking:
        print(f"SKIPPED: {os.path.basename(a.case)}: {lacking}")
        return 77
    failures, runs = [], 0
    io_modes = ["buffered", "direct", "auto"]
    variants = a.variants.split(",")
    combos = []
    for ranks in [int(r) for r in a.ranks.split(",")]:
        if ranks == 1 or a.all_combinations:
            combos += [(ranks, v) for v in variants]
        else:
            combos.append((ranks, variants[ranks % len(variants)]))
    with tempfile.TemporaryDirectory() as tmp:
        for ci, (ranks, variant) in enumerate(combos):
            io = io_modes[ci % len(io_modes)]
            out = os.path.join(tmp, f"out_{ranks}_{variant}.npy")
            argv = ["read"] + open_args(exp, a.case) + [
                "--variant", variant, "--io", io, "--output", out, "--verify"]
            p = run(a, ranks, argv)
            runs += 1
            tag = f"[{ranks} ranks, {variant}, io {io}]"
            if kind == "error" or (kind == "ok_or_error" and p.returncode != 0):
                err = check_error(exp, p)
            elif p.returncode != 0:
                err = f"exit {p.returncode}: {p.stderr[-2000:]}"
            else:
                err = check_ok(exp, out)
                if any(".tmp." in f for f in os.listdir(tmp)):
                    err = "temporary output left behind"
            if err:
                failures.append(f"{tag} {err}")
            else:
                print(f"ok {tag}")
    for f in failures:
        print("FAIL", f)
    print(f"{runs - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The gpu variant on the host copy engine (SHARDLOAD_TEST_COPY_ENGINE),
no GPU needed: every fixture case this build reads, at 1, 2, 3 and 4 ranks,
must give what the omp variant gives (the case's expected.json sha256, which
the fixture tier checks omp against), or the same one-line error naming the
file. Staging buffers are cut to 4 KiB so that even small fixtures go
through many chunks; runs rotate the engine's seed, the I/O mode and the
cuFile stand-in (SHARDLOAD_TEST_GDS=1 with --gds auto), and every run
verifies the tile as read back through the executor.

Usage: host_fixtures.py --shardload BIN --mpiexec CMD --fixtures DIR --prefixes npy,h5,...
"""
import argparse, glob, json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mpi"))
import fixture_test as ft  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True, nargs="+")
    ap.add_argument("--mpiexec", default="mpiexec --allow-run-as-root --oversubscribe")
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--prefixes", required=True)
    a = ap.parse_args()
    if not os.path.isdir(a.fixtures):
        print(f"SKIPPED: fixtures not found at {a.fixtures}")
        return 77
    cases = []
    for p in a.prefixes.split(","):
        cases += sorted(c for c in glob.glob(os.path.join(a.fixtures, p + "_*")) if os.path.isdir(c))
    failures, runs, skipped, k = [], 0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            exp = json.load(open(os.path.join(case, "expected.json")))
            if ft.missing_feature(a, exp):
                skipped += 1
                print(f"skip {os.path.basename(case)}: {ft.missing_feature(a, exp)}")
                continue
            for ranks in (1, 2, 3, 4):
                k += 1
                io = ("buffered", "direct", "auto")[k % 3]
                gds = k % 2 == 0
                env = {"SHARDLOAD_TEST_COPY_ENGINE": f"host:{k}",
                       "SHARDLOAD_TEST_STAGE_BYTES": "4096",
                       "SHARDLOAD_TEST_GDS": "1" if gds else "0"}
                out = os.path.join(tmp, f"out_{k}.npy")
                argv = ["read"] + ft.open_args(exp, case) + [
                    "--variant", "gpu", "--io", io, "--gds", "auto" if gds else "off",
                    "--output", out, "--verify"]
                cmd, e = ft.launch(a, ranks, env)  # local ranks inherit mpiexec's environment
                p = subprocess.run(cmd + argv, capture_output=True, text=True, env=e, timeout=120)
                runs += 1
                tag = f"[{os.path.basename(case)}, {ranks} ranks, io {io}, gds {'stand-in' if gds else 'off'}]"
                kind = exp["expect"]
                if kind == "error" or (kind == "ok_or_error" and p.returncode != 0):
                    err = ft.check_error(exp, p)
                elif p.returncode != 0:
                    err = f"exit {p.returncode}: {p.stderr[-2000:]}"
                else:
                    err = ft.check_ok(exp, out)
                if err:
                    failures.append(f"{tag} {err}")
                    print(f"FAIL {tag} {err}")
                if os.path.exists(out):
                    os.remove(out)
    print(f"{runs - len(failures)} of {runs} runs equal omp's result ({len(cases)} cases, "
          f"{skipped} skipped as the fixture tier skips them)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

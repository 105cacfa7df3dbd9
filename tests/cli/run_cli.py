#!/usr/bin/python3
"""CLI cases: each cases/NAME.sh runs with $SL (the binary), $MPIEXEC, $FIX
(the fixtures) and $T (a fresh temporary directory) set. Siblings pin down
the outcome: NAME.exit (exit code, default 0), NAME.stderr.glob and
NAME.stdout.glob (the whole output, where only '*' is special: it matches
anything, newlines included).
"""
import argparse, glob, os, re, subprocess, sys, tempfile


def matches(text, pattern):
    rx = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(rx, text, re.DOTALL) is not None


def expect(path, default=None):
    return open(path).read() if os.path.exists(path) else default


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--fixtures", default=os.path.join(os.path.dirname(__file__), "../../../shared/fixtures"))
    ap.add_argument("--skip", action="append", default=[],
                    help="a case that does not apply to this build (said so, not run)")
    a = ap.parse_args()
    failed, passed = [], 0
    for sh in sorted(glob.glob(os.path.join(a.cases, "*.sh"))):
        base = sh[:-3]
        name = os.path.basename(base)
        if name in a.skip:
            print(f"skipped {name}: does not apply to this build")
            continue
        with tempfile.TemporaryDirectory() as t:
            # Open MPI unloads its components before LeakSanitizer looks, so
            # their leaks cannot be suppressed by name (tests/lsan.supp): the
            # ranks under $MPIEXEC run without the leak check, as the mpi
            # tier's do; single processes keep it.
            mpiexec = "env ASAN_OPTIONS=detect_leaks=0 " + a.mpiexec
            env = dict(os.environ, SL=a.shardload, MPIEXEC=mpiexec, T=t,
                       FIX=os.path.abspath(a.fixtures))
            p = subprocess.run(["sh", "-eu", sh], capture_output=True, text=True, env=env,
                               timeout=300)
        problems = []
        want_exit = int(expect(base + ".exit", "0").strip())
        if p.returncode != want_exit:
            problems.append(f"exit {p.returncode}, expected {want_exit}")
        for stream, text in (("stderr", p.stderr), ("stdout", p.stdout)):
            pat = expect(f"{base}.{stream}.glob")
            if pat is not None and not matches(text.strip(), pat.strip()):
                problems.append(f"{stream} does not match {name}.{stream}.glob:\n{text}")
        if problems:
            failed.append(name)
            print(f"FAIL {name}: " + "\n".join(problems) + f"\nstderr:\n{p.stderr[-3000:]}")
        else:
            passed += 1
            print(f"ok {name}")
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the Python test scripts: running the command (alone or
under mpiexec) and counting checks."""
import argparse, os, shutil, subprocess, sys

failures = []
passed = 0

# Open MPI unloads its components before LeakSanitizer runs, so their
# allocations cannot be attributed: leaks are checked in single-process runs.
MPI_ENV = {"ASAN_OPTIONS": "detect_leaks=0"}


def check(cond, what):
    global passed
    print(("ok   " if cond else "FAIL ") + what)
    if cond:
        passed += 1
    else:
        failures.append(what)
    return cond


def args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True)
    ap.add_argument("--mpiexec", required=True)
    return ap.parse_args()


def run(a, *argv, n=0, env=None, show=False):
    """shardload ARGV as one process (n=0) or under mpiexec -n N."""
    cmd = [a.shardload] + list(argv)
    extra = dict(env or {})
    if n:
        cmd = a.mpiexec.split() + ["-n", str(n)] + cmd
    if n or extra.get("SHARDLOAD_MPI") == "1":
        extra = dict(MPI_ENV, **extra)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **extra))
    if show and p.returncode != 0:
        print(p.stdout[-2000:], p.stderr[-2000:])
    return p


def summary():
    """Prints the closing count line and @return the exit code."""
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


def skip(why):
    """Skips the whole test loudly (CTest shows it as Skipped)."""
    print(f"SKIPPED: {why}")
    sys.exit(77)


def node_args():
    """The arguments of a test that makes files with npm packages."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--node-dir", required=True, help="where node_modules is (or goes)")
    return ap.parse_args()


def npm_dir(d, packages, what):
    """d, with node_modules holding packages (name@version), installed on first
    use (never into the source tree); skips when node, npm or the network is
    missing. what: the files they make, for the message."""
    if all(os.path.isdir(os.path.join(d, "node_modules", p.rsplit("@", 1)[0]))
           for p in packages):
        return d
    if not shutil.which("node") or not shutil.which("npm"):
        skip(f"node and npm are needed to make {what}")
    os.makedirs(d, exist_ok=True)
    p = subprocess.run(["npm", "install", "--prefix", d, "--no-save", "--no-audit", "--no-fund"]
                       + list(packages), capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        skip(f"npm install {' '.join(packages)} failed (offline?): {p.stderr[-300:]}")
    return d

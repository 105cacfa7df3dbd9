#!/usr/bin/python3
"""The gpu variant through the command line, in a CUDA build.

--mode nodevice (a machine with the toolkit and no GPU, as CI here):
  the library links cudart; `read --variant gpu` exits 1 with "no CUDA device
  visible to rank 0" at 1 and 2 ranks (every rank fails; the agreed message
  is the lowest rank's); `--variant auto --json` loads with a host variant
  and every rank's report has the note "no CUDA device visible to rank R";
  `--gds on` with the host copy engine fails naming GPUDirect Storage.
  Skipped (77) where a CUDA device is visible.

--mode device (needs a GPU; skipped loudly with "no CUDA device" without):
  fixtures (npy, big-endian npy, HDF5, Parquet) read with --variant gpu at 1
  and 2 ranks, --gds off and auto, equal the omp variant's --output
  byte for byte, verify through device read-back, and report the device
  (index, name, PCI bus id) and the path per rank.

Usage: test_gpu_cli.py --mode nodevice|device --shardload BIN --lib LIB
       --mpiexec CMD --fixtures DIR
"""
import argparse, json, os, subprocess, sys, tempfile


def device_visible():
    """What the machine says, independently of shardload."""
    try:
        p = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60)
        return p.returncode == 0 and "GPU" in p.stdout
    except (OSError, subprocess.TimeoutExpired):
        return os.path.exists("/dev/nvidia0")


def run(a, ranks, argv, env=None):
    cmd = [a.shardload] + argv
    if ranks > 1:
        cmd = a.mpiexec.split() + ["-n", str(ranks)] + cmd
    e = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", **(env or {}))
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=300)


problems = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        problems.append(what)


def nodevice(a, data):
    ldd = subprocess.run(["ldd", a.lib], capture_output=True, text=True).stdout
    check("libcudart" in ldd, f"{os.path.basename(a.lib)} links libcudart")
    check("libcufile" not in ldd, "libcufile is not a link dependency")
    v = run(a, 1, ["--version"]).stdout
    check("gpu" in v.split("variants:")[1].split(";")[0], "--version lists the gpu variant")
    for ranks in (1, 2):
        p = run(a, ranks, ["read", data, "--variant", "gpu"])
        check(p.returncode == 1 and "no CUDA device visible to rank 0" in p.stderr,
              f"{ranks} rank(s): --variant gpu fails with the no-device message "
              f"(exit {p.returncode}: {p.stderr.strip().splitlines()[:1]})")
        p = run(a, ranks, ["read", data, "--variant", "auto", "--json", "--verify"])
        ok = p.returncode == 0
        if ok:
            j = json.loads(p.stdout)
            for r in j["per_rank"]:
                note = r.get("note") or ""
                ok = ok and r["variant"] in ("omp", "cpu") and r["path"] == "host" and \
                    f"no CUDA device visible to rank {r['rank']}" in note
        check(ok, f"{ranks} rank(s): auto falls back to a host variant and says so per rank")
    p = run(a, 1, ["read", data, "--variant", "gpu", "--gds", "on"],
            {"SHARDLOAD_TEST_COPY_ENGINE": "host"})
    check(p.returncode == 1 and "GPUDirect Storage" in p.stderr and "unavailable" in p.stderr,
          "--gds on fails clearly where cuFile is unavailable")


def device(a):
    cases = ["npy_many_shards_37", "npy_be_f8_t3x4", "npy_f4_ragged_t8", "h5_be_f8_contiguous_t4",
             "parquet_duckdb_f8_snappy_rowgroups"]
    with tempfile.TemporaryDirectory() as t:
        for c in cases:
            case = os.path.join(a.fixtures, c)
            if not os.path.isdir(case):
                print(f"skip {c}: not in {a.fixtures}")
                continue
            ref = os.path.join(t, "omp.npy")
            p = run(a, 1, ["read", case, "--variant", "omp", "--output", ref])
            if p.returncode != 0:
                print(f"skip {c}: this build cannot read it ({p.stderr.strip()[:200]})")
                continue
            for ranks in (1, 2):
                for gds in ("off", "auto"):
                    out = os.path.join(t, f"gpu_{ranks}_{gds}.npy")
                    p = run(a, ranks, ["read", case, "--variant", "gpu", "--gds", gds, "--json",
                                       "--verify", "--output", out])
                    ok = p.returncode == 0 and open(out, "rb").read() == open(ref, "rb").read()
                    if ok:
                        for r in json.loads(p.stdout)["per_rank"]:
                            d = r.get("device") or {}
                            ok = ok and r["variant"] == "gpu" and d.get("index", -1) >= 0 and \
                                d.get("name") and d.get("pci_bus_id") and \
                                r["path"] in ("staging", "cufile")
                    check(ok, f"{c}: {ranks} rank(s), gds {gds}: gpu equals omp "
                              f"({p.stderr.strip()[:300]})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["nodevice", "device"], required=True)
    ap.add_argument("--shardload", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--mpiexec", default="mpiexec --allow-run-as-root --oversubscribe")
    ap.add_argument("--fixtures", required=True)
    a = ap.parse_args()
    present = device_visible()
    if a.mode == "nodevice" and present:
        print("SKIPPED: a CUDA device is visible, so the no-device behaviour cannot be checked")
        return 77
    if a.mode == "device" and not present:
        print("SKIPPED: no CUDA device (nvidia-smi -L lists none): the gpu variant's device "
              "tests did not run")
        return 77
    data = os.path.join(a.fixtures, "npy_many_shards_37")
    if not os.path.isdir(data):
        print(f"SKIPPED: fixture {data} not found")
        return 77
    nodevice(a, data) if a.mode == "nodevice" else device(a)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

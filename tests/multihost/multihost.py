#!/usr/bin/python3
"""The multi-host tier (TESTING.md): 3 "hosts" made of Linux namespaces on
this machine, Open MPI launched across them, shardload read on them.

Topology (see ../shared/reference/multihost.md for the measured facts):
a switch namespace of the test's own holds a bridge; each host is a network,
UTS and mount namespace (own hostname, own /etc/hosts by a bind mount, own
/dev/shm) joined to the bridge by a veth pair made inside the switch
namespace, with an address of 10.77.7.0/24, which exists only there. A holder
process (sleep) per namespace keeps it alive; commands join with nsenter.
mpiexec runs inside host h1 and starts its daemons through a launch agent
that enters the host's namespaces (Open MPI's rsh launcher, as over ssh).

Checks: the ranks really run on 3 hosts (hostnames, network namespaces);
read --verify --output at 3 ranks on 3 hosts (and 6, 2 per host) equals
numpy's concatenation; a host's link cut mid-load, and mid-output, ends the
job non-zero within 15 s with no output or temporary file left; the inputs
keep their sha256, mtime and inode; the machine's own namespace gains no
interface, address, route, mount or /etc edit.

Teardown always runs (finally, and on SIGTERM/SIGINT/SIGHUP): every process
in the test's namespaces, found by namespace, and the holders, by pid. The
holders die with this script (PR_SET_PDEATHSIG) if it is killed outright.
Needs root, ip, nsenter and unshare: without them it skips (exit 77)."""
import argparse, ctypes, hashlib, json, os, shutil, signal, subprocess, sys, time, uuid

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import check, skip, summary  # noqa: E402

SUBNET = "10.77.7"
HOSTS = ["h1", "h2", "h3"]
CUT_LIMIT_S = 15.0
JOB_LIMIT_S = 90  # outer limit of any one mpiexec
TOTAL_LIMIT_S = 240  # of the whole test (CTest's TIMEOUT is 300)
KEEPALIVE = ["--mca", "oob_tcp_keepalive_time", "5", "--mca", "oob_tcp_keepalive_intvl", "1",
             "--mca", "oob_tcp_keepalive_probes", "3"]
PR_SET_PDEATHSIG = 1


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--shim", required=True, help="pause_shim.so (tests/stress)")
    ap.add_argument("--work", required=True,
                    help="a folder of the build tree (shared by the hosts)")
    return ap.parse_args()


def sh(*cmd, check_rc=True, timeout=20):
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ---------------------------------------------------------------- the machine's own state

def own_state():
    """What the machine's own namespace must still look like afterwards."""
    s = {}
    for name, cmd in [("links", ["ip", "-o", "link"]), ("addresses", ["ip", "-o", "addr"]),
                      ("routes", ["ip", "route"]), ("routes6", ["ip", "-6", "route"]),
                      ("rules", ["ip", "rule"])]:
        s[name] = sh(*cmd, check_rc=False).stdout
    with open("/proc/self/mountinfo") as f:
        s["mounts"] = sorted(l.split(" ", 4)[4] for l in f)  # without mount ids
    for p in ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf"):
        try:
            with open(p, "rb") as f:
                s[p] = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            s[p] = None
    s["hostname"] = os.uname().nodename
    with open("/proc/sys/net/ipv4/tcp_retries2") as f:
        s["tcp_retries2"] = f.read()
    return s


def ns_id(pid, kind="net"):
    return os.stat(f"/proc/{pid}/ns/{kind}").st_ino


# ---------------------------------------------------------------- hosts

class Hosts:
    """A switch namespace and len(names) hosts on it; stop() undoes it all."""

    def __init__(self, work, names):
        self.work, self.names = work, names
        self.switch = None
        self.holders = {}  # name -> Popen
        self.netns = set()

    def _holder(self, ns_flags, script):
        return subprocess.Popen(["unshare"] + ns_flags + ["sh", "-c", script],
                                preexec_fn=die_with_parent, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    def start(self):
        t0 = time.time()
        hosts_file = os.path.join(self.work, "hosts")
        with open(hosts_file, "w") as f:
            f.write("127.0.0.1 localhost\n")
            for i, n in enumerate(self.names):
                f.write(f"{SUBNET}.{i + 1} {n}\n")
        ready = os.path.join(self.work, f"ready-{uuid.uuid4().hex[:8]}")
        os.makedirs(ready)  # fresh: a holder is ready when its own file appears
        self.switch = self._holder(["--net"], f"touch {ready}/switch && exec sleep 600")
        for n in self.names:
            script = (f"hostname {n} && mount -t tmpfs -o size=256m tmpfs /dev/shm && "
                      f"mount --bind {hosts_file} /etc/hosts && touch {ready}/{n} && "
                      "exec sleep 600")
            self.holders[n] = self._holder(
                ["--net", "--uts", "--mount", "--propagation", "private"], script)
        for n, p in [("switch", self.switch)] + list(self.holders.items()):
            end = time.time() + 10
            while not os.path.exists(os.path.join(ready, n)):
                if p.poll() is not None or time.time() > end:
                    raise RuntimeError(f"namespace holder {n} did not start: "
                                       f"{p.stderr.read() if p.poll() is not None else 'timeout'}")
                time.sleep(0.01)
            # members() kills by namespace: never this process's own
            if ns_id(p.pid) == ns_id("self"):
                raise RuntimeError(f"namespace holder {n} shares this process's network namespace")
            self.netns.add(ns_id(p.pid))
        S = str(self.switch.pid)
        self.inside("switch", "ip link add br0 type bridge && ip link set br0 up && "
                    "ip link set lo up")
        for i, n in enumerate(self.names):
            H = str(self.holders[n].pid)
            sh("nsenter", "-t", S, "-n", "ip", "link", "add", f"v{n}", "type", "veth", "peer",
               "name", "eth0", "netns", H)
            sh("nsenter", "-t", S, "-n", "ip", "link", "set", f"v{n}", "master", "br0", "up")
            # tcp_retries2 here only: a lost peer's connection fails in seconds
            self.inside(n, f"ip addr add {SUBNET}.{i + 1}/24 dev eth0 && ip link set eth0 up && "
                        "ip link set lo up && echo 6 > /proc/sys/net/ipv4/tcp_retries2")
        self.wait_links()
        return time.time() - t0

    def wait_links(self):
        """Until every host reaches every other (a TCP connect to a closed port
        is refused at once when the path is up)."""
        probe = ("import socket,sys\nfor a in sys.argv[1:]:\n s=socket.socket();s.settimeout(2)\n"
                 " try: s.connect((a,9))\n except ConnectionRefusedError: pass\n s.close()")
        end = time.time() + 10
        for n in self.names:
            while True:
                others = [f"{SUBNET}.{j + 1}" for j in range(len(self.names))]
                p = subprocess.run(self.enter(n) + ["/usr/bin/python3", "-c", probe] + others,
                                   capture_output=True, text=True, timeout=30)
                if p.returncode == 0:
                    break
                if time.time() > end:
                    raise RuntimeError(f"{n} cannot reach the others: {p.stderr[-300:]}")
                time.sleep(0.1)

    def enter(self, name):
        p = self.switch if name == "switch" else self.holders[name]
        flags = ["-n"] if name == "switch" else ["-n", "-u", "-m"]
        return ["nsenter", "-t", str(p.pid)] + flags

    def inside(self, name, script):
        return sh(*self.enter(name), "sh", "-c", script)

    def cut(self, name):
        """Cuts host name off: its port on the bridge goes down."""
        self.inside("switch", f"ip link set v{name} down")

    def members(self):
        """Pids of every process in the test's network namespaces."""
        pids = []
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) != os.getpid():
                try:
                    if ns_id(d) in self.netns:
                        pids.append(int(d))
                except OSError:
                    pass
        return pids

    def stop(self):
        t0 = time.time()
        holders = [p for p in [self.switch] + list(self.holders.values()) if p is not None]
        keep = {p.pid for p in holders}
        for _ in range(3):  # daemons may still be starting children
            stray = [pid for pid in self.members() if pid not in keep]
            for pid in stray:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if not stray:
                break
            time.sleep(0.05)
        for p in holders:
            if p.poll() is None:
                p.kill()
            p.wait()
        self.switch, self.holders = None, {}
        left = self.members()
        return time.time() - t0, left


# ---------------------------------------------------------------- launching

def write_agent(work, hosts):
    """The launch agent Open MPI calls as it would ssh: AGENT HOST COMMAND...
    It runs the command in HOST's namespaces with an ssh-like clean
    environment, after checking HOST's port on the bridge is up (a host
    unreachable at launch would otherwise make it wait forever: 255, as ssh)."""
    path = os.path.join(work, "agent")
    cases = "\n".join(f"  {n}) pid={p.pid} ;;" for n, p in hosts.holders.items())
    with open(path, "w") as f:
        f.write(f"""#!/bin/sh
host=$1
shift
case $host in
{cases}
  *) echo "agent: no host $host" >&2; exit 255 ;;
esac
if ! nsenter -t {hosts.switch.pid} -n ip -o link show v$host 2>/dev/null | grep -q 'state UP'; then
  echo "agent: $host is unreachable" >&2
  exit 255
fi
exec nsenter -t $pid -n -u -m env -i PATH="$PATH" HOME="$HOME" USER=root LOGNAME=root \\
  SHELL=/bin/sh sh -c "$*"
""")
    os.chmod(path, 0o755)
    return path


class Launcher:
    def __init__(self, a, hosts, work):
        self.mpiexec = a.mpiexec.split()[0]
        self.shardload, self.shim = os.path.abspath(a.shardload), os.path.abspath(a.shim)
        self.hosts, self.work = hosts, work
        self.agent = write_agent(work, hosts)
        self.session = os.path.join(work, "session")
        os.makedirs(self.session, exist_ok=True)

    def cmd(self, per_host, argv, env_names=()):
        hosts = ",".join(f"{n}:{per_host}" for n in self.hosts.names)
        c = self.hosts.enter("h1") + [
            self.mpiexec, "--allow-run-as-root", "--host", hosts,
            "-n", str(per_host * len(self.hosts.names)),
            "--mca", "plm", "rsh", "--mca", "plm_rsh_agent", self.agent,
            "--mca", "plm_rsh_no_tree_spawn", "1", "--bind-to", "none",
            "--mca", "btl_tcp_if_include", f"{SUBNET}.0/24",
            "--mca", "oob_tcp_if_include", f"{SUBNET}.0/24",
            "--mca", "orte_tmpdir_base", self.session] + KEEPALIVE
        for e in env_names:
            c += ["-x", e]
        return c + list(argv)

    def popen(self, per_host, argv, env=None):
        """mpiexec on h1; the variables of env reach the ranks by -x, as on a
        cluster (LD_PRELOAD only there, not into mpiexec itself)."""
        extra = dict(env or {})
        extra.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        extra.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        pre = extra.pop("LD_PRELOAD", None)
        names = list(extra) + ([f"LD_PRELOAD={pre}"] if pre else [])
        return subprocess.Popen(self.cmd(per_host, argv, names), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=dict(os.environ, **extra),
                                start_new_session=True, preexec_fn=die_with_parent)

    def run(self, per_host, argv, env=None):
        p = self.popen(per_host, argv, env)
        try:
            out, err = p.communicate(timeout=JOB_LIMIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            err += f"\n(killed after {JOB_LIMIT_S} s)"
        return p.returncode, out, err


# ---------------------------------------------------------------- checks

def snapshot(folder):
    out = {}
    for n in sorted(os.listdir(folder)):
        p = os.path.join(folder, n)
        st = os.stat(p)
        with open(p, "rb") as f:
            out[n] = (hashlib.sha256(f.read()).hexdigest(), st.st_mtime_ns, st.st_ino)
    return out


def where_ranks_run(L, hosts):
    rc, out, err = L.run(1, ["sh", "-c", "echo $(hostname) $(readlink /proc/self/ns/net) "
                                         "$(readlink /proc/self/ns/uts) $(stat -c %d:%i /dev/shm)"])
    lines = sorted(out.split("\n")[:-1])
    names = sorted(l.split()[0] for l in lines if l)
    nets = {l.split()[1] for l in lines if l}
    shms = {l.split()[3] for l in lines if l}
    check(rc == 0 and names == HOSTS, f"one rank on each of h1, h2, h3: {names} "
          + (err[-400:] if rc else ""))
    want = {f"net:[{ns_id(p.pid)}]" for p in hosts.holders.values()}
    check(nets == want, f"each in its host's network namespace: {sorted(nets)}")
    check(len(shms) == 3, f"each with its own /dev/shm: {sorted(shms)}")


def read_ok(L, data, want, out_dir, per_host):
    target = os.path.join(out_dir, f"out{per_host}.npy")
    t0 = time.time()
    rc, out, err = L.run(per_host, [L.shardload, "read", data, "--verify", "--json",
                                    "--output", target])
    took = time.time() - t0
    n = per_host * 3
    what = f"{n} ranks on 3 hosts ({per_host} per host)"
    check(rc == 0, f"{what}: read --verify --output exits 0 ({took:.2f} s)"
          + (f": {err[-800:]}" if rc else ""))
    print(f"figure: {what}: read --verify --output in {took:.2f} s")
    if rc != 0:
        return
    r = json.loads(out)
    check(r["ranks"] == n and r["verify"] == "reread", f"{what}: {r['ranks']} ranks, verify "
          f"{r['verify']}")
    check(sum(x["rows"] for x in r["per_rank"]) == want.shape[0]
          and all(x["rows"] > 0 for x in r["per_rank"]), f"{what}: every rank holds rows: "
          f"{[x['rows'] for x in r['per_rank']]}")
    got = np.load(target)
    check(got.dtype == want.dtype and np.array_equal(got, want),
          f"{what}: output equals numpy's concatenation")
    os.unlink(target)


def cut_case(L, hosts, data, out_dir, name, pause_at, pause_rank, victim):
    """Rank pause_rank stopped at pause_at (read: shard data; fsync: the
    output's temporary file), then host victim's link cut."""
    folder = os.path.join(out_dir, name)
    os.makedirs(folder)
    target = os.path.join(folder, "out.npy")
    mark = os.path.join(out_dir, name + ".mark")
    env = {"LD_PRELOAD": L.shim, "SL_PAUSE_AT": pause_at, "SL_PAUSE_RANK": str(pause_rank),
           "SL_PAUSE_DIR": folder, "SL_PAUSE_MARK": mark, "SL_PAUSE_SECONDS": "60",
           "ASAN_OPTIONS": "detect_leaks=0:verify_asan_link_order=0"}
    what = f"{name}: rank {pause_rank} paused at {pause_at}, {victim}'s link cut"
    p = L.popen(1, [L.shardload, "read", data, "--io", "buffered", "--output", target], env)
    try:
        end, m = time.time() + 60, None
        while time.time() < end and p.poll() is None and m is None:
            if os.path.exists(mark):
                with open(mark) as f:
                    m = f.read().split()
            time.sleep(0.01)
        ended = "" if m or p.poll() is None else f" (job ended: {p.communicate()[1][-600:]})"
        if not check(m is not None, f"{what}: the pause was reached{ended}"):
            return
        print(f"  rank {pause_rank} paused on {m[1]}: {m[2]} ({m[3]} bytes)")
        hosts.cut(victim)
        t0 = time.time()
        try:
            _, err = p.communicate(timeout=CUT_LIMIT_S + 30)
        except subprocess.TimeoutExpired:
            err = "(still running 45 s after the cut)"
        took = time.time() - t0
        check(p.returncode not in (0, None) and took <= CUT_LIMIT_S,
              f"{what}: the job ends non-zero (rc {p.returncode}) in {took:.2f} s "
              f"<= {CUT_LIMIT_S:.0f} s")
        print(f"figure: {name}: job ended {took:.2f} s after the cut, rc {p.returncode}")
        for l in err.splitlines():
            if l.startswith("shardload:") or "lost" in l.lower():
                print("  " + l)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        if os.path.exists(mark):
            os.unlink(mark)
    time.sleep(0.5)  # a signalled rank on a live host finishes its cleanup
    left = {n: os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder)}
    check(not left, f"{what}: no output or temporary file left: {left} "
          f"({sum(left.values())} bytes)")
    print(f"figure: {name}: {len(left)} files, {sum(left.values())} bytes left in the output "
          "folder")


# ---------------------------------------------------------------- main

def preconditions():
    if os.geteuid() != 0:
        skip("the multi-host tier needs root (network, UTS and mount namespaces)")
    for tool in ("ip", "nsenter", "unshare"):
        if shutil.which(tool) is None:
            skip(f"the multi-host tier needs {tool} (iproute2 / util-linux)")
    p = subprocess.run(["unshare", "--net", "--uts", "--mount", "--propagation", "private", "sh",
                        "-c", "ip link add t0 type veth peer name t1 && "
                        "mount -t tmpfs tmpfs /dev/shm && hostname probe"],
                       capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        skip(f"namespaces, veth pairs or mounts are not available here: {p.stderr.strip()[-300:]}")


stopping = False  # teardown is under way: signals wait


def on_signal(sig, _):
    if not stopping:
        raise SystemExit(f"signal {sig}: tearing down")


def with_hosts(a, work, body):
    """Makes the hosts, runs body(launcher, hosts), always removes them."""
    global stopping
    hosts = Hosts(work, HOSTS)
    try:
        made = hosts.start()
        print(f"figure: 3 hosts made in {made:.2f} s")
        body(Launcher(a, hosts, work), hosts)
    finally:
        stopping = True
        took, left = hosts.stop()
        stopping = False
        print(f"figure: hosts removed in {took:.2f} s")
    check(not left, f"no process left in the test's namespaces: {left}")


def main():
    a = parse()
    preconditions()
    if not os.path.exists(a.shim):
        print(f"FAIL the pause shim is missing: {a.shim}")
        return 1
    t_all = time.time()
    work = os.path.join(os.path.abspath(a.work), uuid.uuid4().hex[:8])
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(work)
    rng = np.random.default_rng(3)
    data = os.path.join(work, "in")
    os.makedirs(data)
    parts = [rng.standard_normal((r, 32)).astype("<f4") for r in (30000, 1, 45000, 0, 56071)]
    for i, x in enumerate(parts):
        np.save(os.path.join(data, f"shard_{i:04d}.npy"), x)
    want = np.concatenate(parts)
    inputs = snapshot(data)
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    before = own_state()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, on_signal)
    signal.alarm(TOTAL_LIMIT_S)  # the outer limit: teardown runs even on a hang
    try:
        def reads(L, hosts):
            where_ranks_run(L, hosts)
            read_ok(L, data, want, out_dir, 1)
            read_ok(L, data, want, out_dir, 2)
            check(snapshot(data) == inputs, "inputs keep sha256, mtime and inode after the reads")
            cut_case(L, hosts, data, out_dir, "load", "read", 2, "h3")
            check(snapshot(data) == inputs, "inputs keep sha256, mtime and inode after a cut "
                  "mid-load")

        def cut_output(L, hosts):
            cut_case(L, hosts, data, out_dir, "output", "fsync", 0, "h2")
            check(snapshot(data) == inputs, "inputs keep sha256, mtime and inode after a cut "
                  "mid-output")

        with_hosts(a, work, reads)
        with_hosts(a, work, cut_output)  # the cut host is gone: a fresh set
    finally:
        after = own_state()
        diff = [k for k in before if before[k] != after[k]]
        check(not diff, f"the machine's own namespace is unchanged (links, addresses, routes, "
              f"mounts, /etc, hostname, tcp_retries2){': changed ' + str(diff) if diff else ''}")
    shutil.rmtree(a.work, ignore_errors=True)
    print(f"multihost: {time.time() - t_all:.1f} s")
    return summary()


if __name__ == "__main__":
    sys.exit(main())

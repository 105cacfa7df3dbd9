#!/usr/bin/python3
"""read --progress on a terminal: tmux runs the command in a pane (a real
TTY on standard error), the pane is captured over and over while it reads
a few hundred MiB written by `shardload write` (O_DIRECT, one thread, 1 MiB
pieces, so it takes long enough to watch), and the live line must be one
line rewritten in place: several distinct captures, their percentages
rising, then the summary line last (with the read's size) and no progress
line left behind. The same read without a terminal (standard error a file)
shows nothing; with --progress=always it draws there too. Skipped loudly
(77) without tmux."""
import os, re, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import args, check, run, skip, summary  # noqa: E402

LINE = re.compile(r"shardload: ([\d.]+ [KMG]?i?B) / ([\d.]+ [KMG]?i?B) +(\d+)%  [\d.]+ GB/s  ETA ")
SUMMARY = re.compile(r"shardload: read ([\d.]+ [KMG]?i?B) in [\d.]+ s \([\d.]+ GB/s\)$")


def tmux(sock, *argv, check_rc=True):
    p = subprocess.run(["tmux", "-L", sock, *argv], capture_output=True, text=True, timeout=30)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"tmux {' '.join(argv)}: {p.stderr.strip()}")
    return p.stdout


def watch(a, sock, d, t):
    """Runs the read in a pane; @return (captures of the progress lines, the
    final pane, the exit status)."""
    done = os.path.join(t, "done")
    cmd = (f"SHARDLOAD_PROGRESS_MS=50 {a.shardload} read {d} --progress --io direct "
           f"--threads 1 --chunk-mib 1 > {t}/out.txt; echo $? > {done}")
    tmux(sock, "new-session", "-d", "-s", "p", "-x", "160", "-y", "20")
    tmux(sock, "send-keys", "-t", "p", cmd, "Enter")
    seen, end = [], time.time() + 120
    while not os.path.exists(done) and time.time() < end:
        lines = [l for l in tmux(sock, "capture-pane", "-p", "-t", "p").splitlines()
                 if LINE.search(l)]
        if lines and (not seen or seen[-1] != lines[-1]):
            seen.append(lines[-1])
        time.sleep(0.02)
    time.sleep(0.2)  # the shell's prompt after the command
    pane = tmux(sock, "capture-pane", "-p", "-t", "p")
    rc = open(done).read().strip() if os.path.exists(done) else "timeout"
    return seen, pane, rc


def main():
    a = args()
    if shutil.which("tmux") is None:
        skip("tmux is not installed (scripts/install-deps.sh installs it)")
    with tempfile.TemporaryDirectory() as t:
        d = os.path.join(t, "d")
        p = run(a, "write", d, "--shape", "50000000,2", "--num-shards", "8", show=True)
        check(p.returncode == 0, "wrote 381.5 MiB")
        sock = f"shardload-test-{os.getpid()}"
        try:
            seen, pane, rc = watch(a, sock, d, t)
        finally:
            tmux(sock, "kill-server", check_rc=False)
        pcts = [int(LINE.search(l).group(3)) for l in seen]
        check(rc == "0", f"exit status {rc}")
        check(len(set(pcts)) >= 3, f"the line was rewritten with several percentages: {pcts}")
        check(pcts == sorted(pcts), f"percentages only rise: {pcts}")
        check(all(LINE.search(l).group(2) == "381.5 MiB" for l in seen), "of the whole 381.5 MiB")
        ours = [l.rstrip() for l in pane.splitlines() if l.startswith("shardload:")]
        check(len(ours) == 1 and SUMMARY.search(ours[0]) is not None and
              SUMMARY.search(ours[0]).group(1) == "381.5 MiB",
              f"the summary line alone is left: {ours}")
        p = run(a, "read", d, "--progress")
        check(p.returncode == 0 and p.stderr == "", f"not a terminal: nothing on stderr "
              f"({p.stderr[:200]!r})")
        p = subprocess.run([a.shardload, "read", d, "--progress=always"], capture_output=True,
                           timeout=300)
        shown = [l.rstrip("\n") for l in p.stderr.decode().split("\r\x1b[K") if l.strip()]
        check(p.returncode == 0 and len(shown) >= 3 and SUMMARY.search(shown[-1]) is not None
              and p.stderr.endswith(b"\n\r\x1b[K"),
              f"--progress=always draws anyway, each update over the last, the summary "
              f"last: {shown}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())

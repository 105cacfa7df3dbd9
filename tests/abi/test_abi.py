#!/usr/bin/python3
"""ABI: tests/abi/consumer.c built against an older copy of the public
headers, made here by removing the fields appended last (as a program built
against an earlier release has them), and against the current headers;
both run on the current shared library.

Usage: test_abi.py --include DIR --lib LIBSHARDLOAD.so --fixture DIR --cc CC"""
import argparse, os, re, subprocess, sys, tempfile

# The last fields of each struct, as appended after an earlier release.
REMOVED = {
    "shardload.h": ["const char *fill_nulls;", "const char *cast;", "int64_t min_rows;", "int64_t files_opened;",
                    "int64_t open_files_peak;", "int64_t open_files_limit;",
                    # the gpu variant's (P6): options, then stats
                    "sl_memory_kind memory;", "int device;", "sl_gds_mode gds;",
                    "int device;", "int gds;", "char device_name[96];", "char device_pci[32];",
                    "int64_t staging_peak;", "char note[256];",
                    # observing a read (P8): options, then stats
                    "sl_progress_fn progress;", "void *progress_user;", "int progress_ms;",
                    "sl_trace *trace;", "int64_t bytes_direct;", "int64_t bytes_cached;",
                    "int64_t bytes_buffered;", "int64_t bytes_mapped;",
                    "int64_t bytes_decoded;"],
    "shardload_driver.h": ["int64_t (*unit_start)", "sl_status (*write)", "void (*describe)",
                           # 0.3: the gather's take, format aliases
                           "sl_status (*take)", "const char *const *aliases;",
                           # 0.3: inspect's account of a shard
                           "sl_status (*inspect)"],
}


def strip(text, needles):
    """Removes each field (its declaration up to the ';' and its comment)."""
    for n in needles:
        i = text.find(n)
        if i < 0:
            sys.exit(f"abi: '{n}' is not in the header any more; update REMOVED")
        start = text.rfind("\n", 0, i) + 1
        end = text.find(";", i) + 1
        comment = re.match(r"\s*/\*.*?\*/", text[end:], re.S)
        if comment and "\n" not in text[end:end + comment.start() + 1]:
            end += comment.end()
        text = text[:start] + text[end:].lstrip(" ")
    return text


def build_and_run(a, inc, tag, tmp):
    exe = os.path.join(tmp, f"consumer_{tag}")
    libdir = os.path.dirname(a.lib)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "consumer.c")
    cmd = [a.cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", inc, src, "-o", exe,
           a.lib, f"-Wl,-rpath,{libdir}"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAIL {tag}: build: {p.stderr}")
        return False
    work = os.path.join(tmp, f"work_{tag}")
    os.makedirs(work)
    p = subprocess.run([exe, a.fixture, work], capture_output=True, text=True, timeout=120)
    print(f"{'ok  ' if p.returncode == 0 else 'FAIL'} {tag}: {p.stdout.strip()} {p.stderr.strip()}")
    return p.returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--include", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--cc", default="cc")
    a = ap.parse_args()
    if not os.path.isdir(a.fixture):
        print(f"SKIPPED: fixture {a.fixture} not found")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        old = os.path.join(tmp, "old")
        os.makedirs(old)
        for name, needles in REMOVED.items():
            text = open(os.path.join(a.include, name)).read()
            open(os.path.join(old, name), "w").write(strip(text, needles))
        ok = build_and_run(a, old, "older header", tmp)
        ok = build_and_run(a, a.include, "current header", tmp) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

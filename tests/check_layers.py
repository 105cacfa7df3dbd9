#!/usr/bin/python3
"""The layers of src/README.md, checked by symbol (nm -u per object) and by
include, so that a call across a layer fails this test even when it came in
without an #include:

  - src/base objects use only base (and system libraries);
  - a driver (src/formats/NAME) uses only base and its own folder, never
    another driver, core or dist;
  - src/core uses base and core (its driver table names the built-in
    drivers' tables, nothing else of theirs);
  - only src/dist/dist.c calls MPI; only the executor files call OpenMP or
    CUDA;
  - the command line (tools/) uses only what libshardload exports (the
    public headers), never an sl__ internal, and includes only shardload.h
    and its own cli.h.

Usage: check_layers.py --root SRC --lib libshardload.so --objects O... --tools O...
"""
import argparse, os, re, subprocess, sys

problems = []


def bad(msg):
    problems.append(msg)
    print("layering:", msg)


def nm(path, *flags):
    out = subprocess.run(["nm", *flags, path], capture_output=True, text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if parts:
            syms.add(parts[-1])
    return syms


def layer_of(obj):
    """('base'|'core'|'dist'|'formats/NAME'|'tools', file) from an object path."""
    m = re.search(r"\.dir/(src/(base|core|dist)|src/formats/([^/]+)|tools)/([^/]+)\.o$", obj)
    if not m:
        return None, None
    if m.group(3):
        return "formats/" + m.group(3), m.group(4)
    return m.group(2) or "tools", m.group(4)


MPI = re.compile(r"^(MPI_|PMPI_|ompi_)")
OPENMP = re.compile(r"^(omp_|GOMP_|__kmpc_|__omp_)")
CUDA = re.compile(r"^(cuda|cu[A-Z]|__cuda)")


def check_objects(objs, lib_exports):
    defined_by = {}  # symbol -> layer that defines it
    undefined = {}
    for o in objs:
        layer, name = layer_of(o)
        if layer is None:
            bad(f"{o}: not in a known layer")
            continue
        for s in nm(o, "--defined-only", "--extern-only"):
            defined_by[s] = layer
        undefined[o] = (layer, name, nm(o, "-u"))
    for o, (layer, name, syms) in undefined.items():
        where = f"{layer}/{name}"
        for s in syms:
            if MPI.match(s) and where != "dist/dist.c":
                bad(f"{where} calls MPI ({s}); only src/dist/dist.c may")
            if OPENMP.match(s) and not name.startswith("exec_omp"):
                bad(f"{where} calls OpenMP ({s}); only src/core/exec_omp.c may")
            if CUDA.match(s) and not name.startswith("exec_gpu"):
                bad(f"{where} calls CUDA ({s}); only the gpu executor may")
            owner = defined_by.get(s)
            if owner is None or owner == layer:
                continue  # a system library's, or its own layer's
            if owner == "base":
                continue  # every layer may use base
            if layer == "base":
                bad(f"{where} uses {s} of {owner}: base depends on nothing")
            elif layer.startswith("formats/"):
                bad(f"{where} uses {s} of {owner}: a driver uses only base and its own files")
            elif layer == "core" and owner.startswith("formats/"):
                if not (name == "drivers.c" and re.match(r"^sl__\w+_driver$", s)):
                    bad(f"{where} uses {s} of {owner}: core sees drivers only through their "
                        "tables")
            elif layer == "core" and owner == "dist":
                bad(f"{where} uses {s} of dist: core is below dist")
    return defined_by


def check_tools(tool_objs, defined_by, lib_exports):
    for o in tool_objs:
        for s in nm(o, "-u"):
            if s.startswith("sl__"):
                bad(f"{os.path.basename(o)} uses the internal {s}")
            elif s in defined_by and s not in lib_exports:
                bad(f"{os.path.basename(o)} uses {s}, which libshardload does not export")


def check_includes(root):
    for d, _, files in os.walk(os.path.join(root, "tools")):
        for f in files:
            text = open(os.path.join(d, f)).read()
            for inc in re.findall(r'#include "([^"]+)"', text):
                if inc not in ("shardload.h", "cli.h"):
                    bad(f"tools/{f} includes the private header {inc}")
    fmt = os.path.join(root, "src", "formats")
    for name in sorted(os.listdir(fmt)):
        for d, _, files in os.walk(os.path.join(fmt, name)):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                text = open(os.path.join(d, f)).read()
                if re.search(r"#include\s*<mpi\.h>", text):
                    bad(f"src/formats/{name}/{f} includes mpi.h")
                for inc in re.findall(r'#include "([^"]+)"', text):
                    if "/" in inc or inc in ("core.h", "dist.h"):
                        bad(f"src/formats/{name}/{f} includes {inc}")
    for d, _, files in os.walk(os.path.join(root, "src")):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            text = open(os.path.join(d, f)).read()
            if re.search(r"#include\s*<mpi\.h>", text) and rel != "src/dist/dist.c":
                bad(f"{rel} includes <mpi.h> (only src/dist/dist.c may)")
            if re.search(r"^#\s*(if|ifdef|ifndef|elif).*(SL_HAVE_CUDA|SL_HAVE_OPENMP|_OPENMP)",
                         text, re.M) and not (f.startswith("exec_") or f == "sl_config.h.in"):
                bad(f"{rel} tests CUDA/OpenMP outside the exec_* files")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--objects", nargs="+", required=True)
    ap.add_argument("--tools", nargs="+", required=True)
    a = ap.parse_args()
    # CMake passes a generator expression's list as one argument, ;-separated
    a.objects = [o for arg in a.objects for o in arg.split(";") if o]
    a.tools = [o for arg in a.tools for o in arg.split(";") if o]
    exports = nm(a.lib, "-D", "--defined-only")
    defined_by = check_objects(a.objects, exports)
    check_tools(a.tools, defined_by, exports)
    check_includes(a.root)
    checked = len(a.objects) + len(a.tools)
    if problems:
        print(f"layering: {len(problems)} problems in {checked} objects")
        return 1
    print(f"layering: ok ({checked} objects, by symbol and by include)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

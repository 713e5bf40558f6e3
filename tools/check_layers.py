#!/usr/bin/env python3
"""Proves that the layers' include paths point one way (src/meson.build): meson test 'layers'.

    check_layers.py BUILD_DIR LAYER=HEADER_DIR ...      (lowest layer first)

For each layer, with the real compile command of one of its sources (from
BUILD_DIR/compile_commands.json, so exactly the flags the build uses):
  - each of the layer's own headers, included alone, must compile: a header sees only what
    its layer may include, so an upward #include in a header-only file fails here too;
  - an #include of each header of every layer above must fail with "No such file" (gcc) or
    "file not found" (clang), and not for any other reason.
Prints one refusal per pair of layers as evidence. Exit 0, or 1 with every offending case.
"""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import tempfile

NOT_FOUND = ("No such file or directory", "file not found")


def layer_command(entries, layer):
    """The compile command of one source of bsc_<layer>, as (argv, directory)."""
    marker = f"libbsc_{layer}.a.p"
    for e in entries:
        if marker in e.get("output", "") or marker in e["command"]:
            return shlex.split(e["command"]), e["directory"]
    sys.exit(f"check_layers: no compile command for bsc_{layer} in compile_commands.json")


def probe_argv(argv, probe):
    """argv without its output, dependency-file and source arguments, checking `probe`."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("-o", "-c", "-MQ", "-MF", "-MT"):
            skip = True
        elif a not in ("-MD", "-MMD") and not a.startswith("-fdiagnostics-color"):
            out.append(a)
    return out + ["-fsyntax-only", probe]


def headers(root):
    found = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            if n.endswith((".hpp", ".h")):
                found.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(found)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build = sys.argv[1]
    layers = [arg.split("=", 1) for arg in sys.argv[2:]]
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    owned = {name: headers(root) for name, root in layers}
    tmp_dir = tempfile.TemporaryDirectory(prefix="bschub-layers-")
    tmp = tmp_dir.name

    def compile_include(case, layer, header):
        probe = os.path.join(tmp, f"{case}.cpp")
        with open(probe, "w") as f:
            f.write(f'#include "{header}"\n')
        argv, cwd = layer_command(entries, layer)
        r = subprocess.run(probe_argv(argv, probe), cwd=cwd, capture_output=True, text=True)
        return r.returncode, r.stderr

    cases = []  # (layer, header, must_compile)
    for i, (name, _) in enumerate(layers):
        cases += [(name, h, True) for h in owned[name]]
        for upper, _ in layers[i + 1:]:
            cases += [(name, h, False) for h in owned[upper]]
    failures, evidence = [], {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda ic: (ic[1], compile_include(ic[0], *ic[1][:2])),
                           enumerate(cases))
        for (layer, header, must_compile), (rc, err) in results:
            if must_compile and rc != 0:
                failures.append(f"{layer}: its own {header} does not compile alone:\n{err}")
            elif not must_compile:
                first = next((l for l in err.splitlines() if header in l and
                              any(s in l for s in NOT_FOUND)), None)
                if rc == 0:
                    failures.append(f"{layer} can include {header}, a layer above it")
                elif first is None:
                    failures.append(f"{layer}: #include \"{header}\" failed for another "
                                    f"reason than not found:\n{err}")
                else:
                    upper = next(n for n, _ in layers if header in owned[n])
                    why = first[first.find("error:"):].strip()
                    evidence.setdefault((layer, upper), f"{layer} -> {header}: {why}")
    for line in evidence.values():
        print(line)
    for f in failures:
        print("FAIL", f)
    own = sum(1 for c in cases if c[2])
    print(f"{len(layers)} layers: {own} headers compile alone with their layer's flags, "
          f"{len(cases) - own} upward includes refused" if not failures else
          f"{len(failures)} of {len(cases)} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Reads one or more meson testlog.json files and prints "N passed, N failed", counting the
test cases inside each test program (doctest and Python unittest outputs); a program whose
output names no cases counts as one. Exit status 1 if anything failed."""
import json
import re
import sys

DOCTEST = re.compile(r"test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed")
UNITTEST_RAN = re.compile(r"^Ran (\d+) tests?", re.M)
UNITTEST_FAILED = re.compile(r"^FAILED \(([^)]*)\)", re.M)


def count(entry):
    out = (entry.get("stdout") or "") + (entry.get("stderr") or "")
    ok = entry.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
    m = DOCTEST.search(out)
    if m:
        passed, failed = int(m.group(2)), int(m.group(3))
        return passed, failed if ok or failed else max(failed, 1)
    ran = UNITTEST_RAN.findall(out)
    if ran:
        total = sum(int(r) for r in ran)
        failed = 0
        for f in UNITTEST_FAILED.findall(out):
            failed += sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", f))
        if not ok and failed == 0:
            failed = 1
        return total - min(failed, total), failed
    return (1, 0) if ok else (0, 1)


def main():
    passed = failed = 0
    for path in sys.argv[1:]:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                entry = json.loads(line)
                p, fl = count(entry)
                print(f"  {path.split('/')[0]}/{entry['name']:<22} {p:>4} passed {fl:>3} failed  ({entry.get('result')})")
                passed += p
                failed += fl
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The pieces of bench/report.py, one job each: matrix (what runs, and the floors a run is
measured against), run (running one row: hub, load tool, CPU/RSS accounting), render
(report.md from the rows), plot (the PNGs). The test library in tests/integration/lib
starts the hub, makes the PKI and reads /proc."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
NCPU = os.cpu_count() or 1
PIN = NCPU >= 2  # hub on core 0, load tool and the report script on core 1

#!/usr/bin/python3
"""Crash safety of the lasting state (src/ops/state_store.hpp, docs/operations.md "Lasting
state"): tests/state_store_writer writes audit records as fast as its store commits them and
is killed with SIGKILL mid-writing, again and again. After each kill Python's own sqlite3
module opens the file: PRAGMA integrity_check says ok, and every batch the writer reported
committed is there: the run's rows are exactly seq 0..K-1 with K >= the last "committed"
line (a batch is all in or all out). The writer then reopens the same directory and appends.
Last, a counted run gives the writer's sustained records/s.

    STATE_STORE_WRITER=build/tests/state_store_writer \
        /usr/bin/python3 tests/integration/test_state_store.py -v
"""
import os
import random
import select
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

WRITER = os.environ.get("STATE_STORE_WRITER", "build/tests/state_store_writer")
# Fewer under the sanitizers (tools/test.sh), where each writer run is several times slower.
KILLS = int(os.environ.get("BSCHUB_STATE_KILLS", "6"))


def start_writer(state_dir, run, *extra):
    return subprocess.Popen([WRITER, state_dir, str(run), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def read_lines(proc, until, timeout):
    """Lines of proc's stdout until `until(lines)` is true or `timeout` s passed."""
    lines, buf, end = [], b"", time.monotonic() + timeout
    while not until(lines) and time.monotonic() < end:
        ready, _, _ = select.select([proc.stdout], [], [], 0.05)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        *done, buf = buf.split(b"\n")
        lines += [d.decode() for d in done]
    return lines, buf


def last_committed(lines):
    counts = [int(l.split()[1]) for l in lines if l.startswith("committed ")]
    return counts[-1] if counts else 0


class StateStoreCrashTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="bschub_state_")
        self.state = os.path.join(self.tmp.name, "state")
        self.db = os.path.join(self.state, "bschub.db")

    def tearDown(self):
        self.tmp.cleanup()

    def check_file(self, run, committed):
        con = sqlite3.connect(self.db)
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            rows = con.execute("SELECT reason FROM audit WHERE reason LIKE ?",
                               (f"run={run} seq=%",)).fetchall()
            seqs = sorted(int(r[0].rsplit("=", 1)[1]) for r in rows)
            self.assertGreaterEqual(len(seqs), committed,
                                    f"run {run}: rows reported committed are missing")
            # All-or-nothing batches from one ordered producer: a prefix, no gaps.
            self.assertEqual(seqs, list(range(len(seqs))), f"run {run}: rows missing mid-way")
            return len(seqs), con.execute("SELECT count(*) FROM audit").fetchone()[0]
        finally:
            con.close()

    def test_sigkill_mid_write_never_corrupts_or_loses_committed_batches(self):
        rng = random.Random(16)
        total = 0
        for run in range(KILLS):
            proc = start_writer(self.state, run, "--flush-ms", "20")
            try:
                # Half the kills land right after a commit was reported, half at a random
                # moment (most likely in the middle of a batch's inserts or its COMMIT).
                if run % 2 == 0:
                    want = rng.randint(3, 15)
                    lines, _ = read_lines(proc, lambda ls: last_committed(ls) > 0 and
                                          sum(l.startswith("committed") for l in ls) >= want, 20)
                else:
                    lines, _ = read_lines(proc, lambda ls: last_committed(ls) > 0, 20)
                    time.sleep(rng.uniform(0.01, 0.4))
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
                more, _ = read_lines(proc, lambda ls: False, 2)  # printed before the kill
                lines += more
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                stderr = proc.stderr.read().decode()
                proc.stderr.close()
            self.assertTrue(lines and lines[0].startswith("opened "),
                            f"run {run}: {lines[:3]} {stderr}")
            committed = last_committed(lines)
            self.assertGreater(committed, 0, f"run {run} committed nothing: {stderr}")
            kept, rows = self.check_file(run, committed)
            total += kept
            self.assertEqual(rows, total)
            print(f"run {run}: killed after {committed} reported committed; {kept} in the file "
                  f"({kept - committed} committed after the last report), {rows} rows in all")

        # The directory opens again after all that (lock released, WAL recovered) and appends.
        proc = start_writer(self.state, "final", "--count", "200000")
        out, err = proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, 0, err.decode())
        lines = out.decode().splitlines()
        rate = [l for l in lines if l.startswith("rate ")]
        self.assertTrue(rate, lines[-3:])
        print(f"counted run: {rate[0]}")
        kept, rows = self.check_file("final", 200000)
        self.assertEqual(kept, 200000)
        self.assertEqual(rows, total + 200000)

    def test_not_a_database_is_refused_with_a_clear_error(self):
        os.makedirs(self.state)
        with open(self.db, "wb") as f:
            f.write(b"this is a text file, not SQLite\n" * 200)
        proc = start_writer(self.state, 0, "--count", "1")
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(f"state file {self.db}: not a SQLite database", err.decode())


if __name__ == "__main__":
    unittest.main()

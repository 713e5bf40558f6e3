#!/usr/bin/python3
"""A failover pair: a primary and a failover bschub sharing one --ticket-key-file, and
bschub-load's nodes acting as hub connectors (--failover-uri) under echo traffic.

    BSCHUB=build/bschub BSCHUB_LOAD=build/bschub-load /usr/bin/python3 tests/integration/test_failover.py [-v]

The primary is killed (SIGKILL) mid-run. Checked:
- every node is connected to the failover hub within RECOVER_LIMIT of the kill (the
  failover hub's /metrics), and echo traffic flows through it;
- the moves resumed their TLS sessions: the failover hub counts only resumed handshakes
  (the tickets the primary issued open there), and so does the tool;
- only messages in flight at the kill are lost, and the tool counts them
  (lost <= inflight_at_loss; no duplicate, corrupt, reordered or misrouted message);
- the primary restarted on the same port gets every node back (within RETURN_LIMIT), again
  by resumed handshakes, the failover hub is left empty, and traffic flows on the primary.
Then the tool is stopped with SIGINT and its --json summary is checked. Loopback only; each
wait is bounded; a few seconds in all.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from lib import hubproc, nodes
from lib.hubproc import load_binary
from lib.metrics import http_request, parse_metrics, total
from lib.nodes import start_hub

NODES = 40            # 20 echo pairs
INTERVAL = "0.3"      # --reconnect-interval: how often the nodes check the primary
CONNECT_LIMIT = 15.0  # every node on the primary at the start
RECOVER_LIMIT = 5.0   # kill -> every node on the failover
RETURN_LIMIT = 10.0   # restart -> every node back on the primary
LOG = "warn"

PKI = None
TMP = None


def setUpModule():
    global PKI, TMP
    hubproc.require_hub_and_load()
    TMP = tempfile.mkdtemp(prefix="bschub-failover-it-")
    PKI = nodes.setup_pki(n_nodes=1, directory=os.path.join(TMP, "pki"))


def tearDownModule():
    nodes.cleanup_pki()
    if TMP is not None:
        shutil.rmtree(TMP, ignore_errors=True)


def metrics(hub):
    status, _, body = http_request(hub.metrics_port, "/metrics")
    assert status == 200, f"/metrics answered {status}"
    return parse_metrics(body)


def connected(hub):
    return total(metrics(hub), "bschub_nodes", state="connected")


def forwarded(hub):
    return total(metrics(hub), "bschub_unicast_forwarded_total")


def handshakes(hub):
    m = metrics(hub)
    return (total(m, "bschub_tls_handshakes_total", kind="full"),
            total(m, "bschub_tls_handshakes_total", kind="resumed"))


def wait_until(what, predicate, limit):
    """Polls `predicate` until true; returns the seconds it took, fails after `limit`."""
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > limit:
            raise AssertionError(f"not within {limit} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - t0


class FailoverTest(unittest.TestCase):
    def setUp(self):
        self.key_file = os.path.join(TMP, "ticket.key")
        subprocess.run(["openssl", "rand", "-out", self.key_file, "80"], check=True)
        self.hubs = []
        self.load = None

    def tearDown(self):
        if self.load is not None and self.load.poll() is None:
            self.load.kill()
            self.load.wait()
        for hub in self.hubs:
            if hub.alive():
                hub.stop(check=False)

    def hub(self, port=0):
        hub = start_hub("--ticket-key-file", self.key_file, log_level=LOG, metrics=True,
                        port=port)
        self.hubs.append(hub)
        return hub

    def info(self):
        out = ""
        if self.load is not None and self.load.poll() is not None:
            with open(self.load_err) as f:
                out += "bschub-load stderr (tail):\n" + f.read()[-3000:]
        for hub in self.hubs:
            out += f"\nhub :{hub.port} stderr (tail):\n" + hub.stderr_tail(15)
        return out

    def test_kill_primary_failover_then_return(self):
        primary, failover = self.hub(), self.hub()
        cert, key = PKI.node(0)
        json_path = os.path.join(TMP, "failover.json")
        self.load_err = os.path.join(TMP, "load.err")
        argv = [load_binary(), "--uri", primary.uri, "--failover-uri", failover.uri,
                "--cert", cert, "--key", key, "--ca", PKI.ca_cert, "--mode", "echo",
                "--nodes", str(NODES), "--duration", "60", "--reconnect-interval", INTERVAL,
                "--json", json_path]
        with open(self.load_err, "w") as err, open(os.path.join(TMP, "load.out"), "w") as out:
            self.load = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)

        wait_until("every node on the primary",
                   lambda: connected(primary) == NODES, CONNECT_LIMIT)
        wait_until("traffic on the primary", lambda: forwarded(primary) > 1000, 5)
        self.assertEqual(handshakes(failover), (0, 0), "the failover hub saw nobody yet")

        # ---- the primary dies ----------------------------------------------------------
        port = primary.port
        primary.send_signal(signal.SIGKILL)
        self.assertEqual(primary.wait(5), -signal.SIGKILL)
        recovered = wait_until("every node on the failover hub",
                               lambda: connected(failover) == NODES, RECOVER_LIMIT)
        wait_until("echo traffic through the failover hub",
                   lambda: forwarded(failover) > 1000, 5)
        self.assertEqual(handshakes(failover), (0, NODES),
                         "each move resumed the primary's session (shared ticket key)\n"
                         + self.info())

        # ---- the primary comes back on its port ----------------------------------------
        primary2 = self.hub(port=port)
        returned = wait_until("every node back on the primary",
                              lambda: connected(primary2) == NODES, RETURN_LIMIT)
        wait_until("the failover hub left empty", lambda: connected(failover) == 0, 5)
        wait_until("echo traffic on the primary again",
                   lambda: forwarded(primary2) > 1000, 5)
        self.assertEqual(handshakes(primary2), (0, NODES),
                         "each return resumed the failover hub's session")

        self.load.send_signal(signal.SIGINT)  # ends the run early; the summary still comes
        self.assertEqual(self.load.wait(30), 0, "bschub-load did not exit 0\n" + self.info())
        with open(json_path) as f:
            s = json.load(f)
        fo = s["failover"]
        detail = json.dumps(fo) + "\n" + self.info()
        self.assertTrue(s["ok"], detail)
        self.assertEqual(fo["failovers"], NODES, detail)
        self.assertEqual(fo["returns"], NODES, detail)
        self.assertEqual((fo["on_primary"], fo["on_failover"]), (NODES, 0), detail)
        self.assertEqual((fo["reconnects"], fo["resumed"], fo["full"]),
                         (2 * NODES, 2 * NODES, 0), detail)
        # Only what was in flight when the primary died may be lost (at most one message
        # per pair: --inflight 1); the planned return loses nothing.
        self.assertLessEqual(fo["lost_in_flight"], fo["inflight_at_loss"], detail)
        self.assertLessEqual(fo["inflight_at_loss"], NODES // 2, detail)
        self.assertEqual(s["lost"], fo["lost_in_flight"], detail)
        for k in ("dup", "corrupt", "reorder", "misrouted"):
            self.assertEqual(s[k], 0, f"{k}\n{detail}")
        self.assertEqual(fo["recover_samples"], NODES, detail)
        self.assertLessEqual(fo["recover_p50_s"], fo["recover_max_s"], detail)
        self.assertLessEqual(fo["recover_max_s"], fo["recover_all_s"] + 1e-3, detail)
        self.assertLessEqual(fo["recover_all_s"], recovered + 0.5, detail)
        print(f"\n  recovered in {recovered:.2f} s (tool: all {fo['recover_all_s']:.3f} s, "
              f"p50 {fo['recover_p50_s'] * 1e3:.1f} ms), returned in {returned:.2f} s, "
              f"lost {fo['lost_in_flight']} of {fo['inflight_at_loss']} in flight")
        for hub in (failover, primary2):
            hub.stop(check=True)


if __name__ == "__main__":
    hubproc.main()

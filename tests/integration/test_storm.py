#!/usr/bin/python3
"""Reconnect storms: admission control, the handshake gate and TLS 1.3 resumption.

    BSCHUB=build/bschub BSCHUB_LOAD=build/bschub-load /usr/bin/python3 tests/integration/test_storm.py [-v]

- StormTest: bschub-load storms 500 nodes (sources spread over 127.0.0.x) at a hub whose
  --max-handshakes is small, while established nodes run open-loop traffic through it: all
  500 connect, the established traffic loses nothing, and the hub's admission counters add
  up (every accepted connection ended as a full handshake, a resumed one or a refusal).
- SourceRateTest: one source address over --source-rate is refused right after accept
  (before TLS), counted and logged; another address is unaffected.
- ResumptionTest: an independent client (Python ssl, OpenSSL) resumes with the hub's session
  ticket (session_reused, and the hub's handshakes_resumed counter); `openssl s_client
  -sess_out/-sess_in` reports "Reused"; a ticket older than --ticket-lifetime, after the
  ticket key has rotated, is refused and the client falls back to a full handshake; with
  --no-tls-tickets nothing resumes.
Everything is on loopback, bounded in count and time.
"""

import os
import socket
import subprocess
import tempfile
import time
import unittest

from lib import hubproc, nodes
from lib.hubproc import load_binary, stop_and_count
from lib.nodes import bsc_close, bsc_connect, start_hub

PKI = None
IO_TIMEOUT = nodes.SOCKET_TIMEOUT
LOAD_TIMEOUT = 90.0
LOG = "info"    # not debug: a storm of 500 connections, several debug lines each


def setUpModule():
    global PKI
    PKI = nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def client_context():
    return hubproc.node_tls_context(*PKI.node(1), PKI.ca_cert)


class StormTest(unittest.TestCase):
    # The sanitizer builds in tools/test.sh run a smaller storm (handshakes are 3-10x slower)
    # beside shorter traffic (it only has to outlast the storm).
    STORM = int(os.environ.get("BSCHUB_STORM_NODES", "500"))
    TRAFFIC_S = os.environ.get("BSCHUB_STORM_TRAFFIC_S", "12")

    def test_storm_while_established_nodes_exchange_traffic(self):
        hub = start_hub("--workers", "2", "--max-handshakes", "16", "--source-rate", "0",
                        log_level=LOG)
        try:
            common = ["--uri", hub.uri, "--cert", PKI.node(1)[0], "--key", PKI.node(1)[1],
                      "--ca", PKI.ca_cert, "--quiet"]
            traffic = subprocess.Popen(
                [load_binary(), *common, "--mode", "rate", "--nodes", "20", "--rate", "400",
                 "--duration", self.TRAFFIC_S, "--size", "100"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                # Let the established nodes connect before the storm starts.
                hub.wait_for_log(r"event=node_connected", timeout=10.0)
                time.sleep(1.0)
                storm = subprocess.run(
                    [load_binary(), *common, "--mode", "connect", "--nodes", str(self.STORM),
                     "--inflight", "100"],
                    capture_output=True, text=True, timeout=LOAD_TIMEOUT)
                traffic_out, _ = traffic.communicate(timeout=LOAD_TIMEOUT)
            finally:
                if traffic.poll() is None:
                    traffic.kill()
                    traffic.wait()
            self.assertEqual(storm.returncode, 0, storm.stdout + storm.stderr)
            self.assertIn(f"handshakes={self.STORM} ", storm.stdout)
            self.assertIn("failed=0 errors=0", storm.stdout)
            self.assertEqual(traffic.returncode, 0, traffic_out)
            self.assertIn("lost=0 dup=0 corrupt=0 reorder=0 errors=0", traffic_out)
        finally:
            c = stop_and_count(hub)
        n_nodes = self.STORM + 20
        self.assertEqual(c.get("nodes_connected"), n_nodes)
        self.assertEqual(c.get("handshakes_full", 0) + c.get("handshakes_resumed", 0), n_nodes)
        # Every accepted connection became a handshake; none were refused or failed.
        self.assertEqual(c.get("accepted"), n_nodes)
        self.assertEqual(c.get("tls_handshake_failed", 0), 0)
        self.assertEqual(c.get("refused_source_rate", 0), 0)
        # 16 open handshakes over 2 workers: the storm had to wait in the backlog.
        self.assertGreater(c.get("accept_paused", 0), 0)
        self.assertGreater(c.get("handshake_cpu_us", 0), 0)


class SourceRateTest(unittest.TestCase):
    def test_one_source_over_its_rate_is_refused_before_tls(self):
        hub = start_hub("--source-rate", "1", "--source-burst", "5", log_level=LOG)
        try:
            refused = 0
            socks = []
            for _ in range(20):
                s = socket.create_connection(("127.0.0.1", hub.port), timeout=IO_TIMEOUT,
                                             source_address=("127.0.0.7", 0))
                socks.append(s)
            # A refused connection is closed at once, without a byte of TLS; an admitted one
            # waits for its ClientHello (the handshake deadline is 10 s).
            time.sleep(1.5)
            for s in socks:
                s.setblocking(False)
                try:
                    refused += s.recv(64) == b""
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    refused += 1
                s.close()
            # Burst 5 at 1/s: 5 or 6 (a token may refill meanwhile) get through.
            self.assertGreaterEqual(refused, 13)
            self.assertLessEqual(refused, 15)
            # Another address is not affected.
            sock = bsc_connect(hub.port, client_context(), source="127.0.0.8")
            bsc_close(sock)
            lines = hub.wait_for_logs(r"event=connection_refused.*source over --source-rate",
                                      refused)
            # One line per refusal (the per-worker flood cap is tested in test_ops.py).
            self.assertEqual(len(lines), refused)
        finally:
            c = stop_and_count(hub)
        self.assertEqual(c.get("refused_source_rate"), refused)
        self.assertEqual(c.get("nodes_connected"), 1)


class ResumptionTest(unittest.TestCase):
    def connect_twice(self, hub, wait_between: float = 0.0):
        ctx = client_context()
        first = bsc_connect(hub.port, ctx)
        session = first.session
        self.assertFalse(first.session_reused)
        bsc_close(first)
        if wait_between:
            time.sleep(wait_between)
        second = bsc_connect(hub.port, ctx, session=session)
        reused = second.session_reused
        bsc_close(second)
        return session, reused

    def test_python_client_resumes_with_the_ticket(self):
        hub = start_hub(log_level=LOG)
        try:
            session, reused = self.connect_twice(hub)
            self.assertTrue(session is not None and session.has_ticket)
            self.assertTrue(reused)
        finally:
            c = stop_and_count(hub)
        self.assertEqual(c.get("handshakes_full"), 1)
        self.assertEqual(c.get("handshakes_resumed"), 1)
        self.assertEqual(c.get("nodes_connected"), 2)

    def test_openssl_s_client_reports_reused(self):
        hub = start_hub(log_level=LOG)
        node_cert, node_key = PKI.node(2)
        sess = os.path.join(tempfile.mkdtemp(prefix="bschub-sess-"), "sess.pem")
        try:
            # `sleep 1 |` keeps stdin open until the ticket (sent after the handshake) is in.
            first = subprocess.run(
                f"sleep 1 | openssl s_client -connect 127.0.0.1:{hub.port} -tls1_3 "
                f"-cert {node_cert} -key {node_key} -CAfile {PKI.ca_cert} -sess_out {sess}",
                shell=True, capture_output=True, text=True, timeout=20)
            self.assertIn("New, TLSv1.3", first.stdout, first.stdout + first.stderr)
            second = subprocess.run(
                f"sleep 1 | openssl s_client -connect 127.0.0.1:{hub.port} -tls1_3 "
                f"-cert {node_cert} -key {node_key} -CAfile {PKI.ca_cert} -sess_in {sess}",
                shell=True, capture_output=True, text=True, timeout=20)
            self.assertIn("Reused, TLSv1.3", second.stdout, second.stdout + second.stderr)
        finally:
            c = stop_and_count(hub)
        self.assertEqual(c.get("handshakes_resumed"), 1)

    def test_ticket_past_its_lifetime_falls_back_to_a_full_handshake(self):
        # Lifetime 1 s: the ticket key rotates every second, so 3.5 s later the ticket's key is
        # gone and its age is past the lifetime.
        hub = start_hub("--ticket-lifetime", "1", log_level=LOG)
        try:
            session, reused = self.connect_twice(hub, wait_between=3.5)
            self.assertTrue(session.has_ticket)
            self.assertFalse(reused)
        finally:
            c = stop_and_count(hub)
        self.assertEqual(c.get("handshakes_full"), 2)
        self.assertEqual(c.get("handshakes_resumed", 0), 0)
        self.assertEqual(c.get("nodes_connected"), 2)

    def test_no_tls_tickets_turns_resumption_off(self):
        hub = start_hub("--no-tls-tickets", log_level=LOG)
        try:
            session, reused = self.connect_twice(hub)
            self.assertFalse(session is not None and session.has_ticket)
            self.assertFalse(reused)
        finally:
            c = stop_and_count(hub)
        self.assertEqual(c.get("handshakes_full"), 2)


class GroupTest(unittest.TestCase):
    """OpenSSL clients send an X25519 key share first. The default hub takes it (no
    HelloRetryRequest); `--tls-groups p256` asks for P-256 with one (cheaper ECC in mbedTLS,
    one more round trip)."""

    def handshake_trace(self, hub) -> str:
        node_cert, node_key = PKI.node(1)
        r = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{hub.port}", "-tls1_3",
             "-groups", "X25519:P-256", "-cert", node_cert, "-key", node_key,
             "-CAfile", PKI.ca_cert, "-msg"],
            input="", capture_output=True, text=True, timeout=20)
        return r.stdout

    def test_default_takes_the_clients_x25519_share(self):
        hub = start_hub(log_level=LOG)
        try:
            out = self.handshake_trace(hub)
        finally:
            hub.stop()
        self.assertEqual(out.count("ClientHello"), 1, out)
        self.assertIn("Server Temp Key: X25519", out)

    def test_p256_only_costs_one_hello_retry(self):
        hub = start_hub("--tls-groups", "p256", log_level=LOG)
        try:
            out = self.handshake_trace(hub)
        finally:
            hub.stop()
        self.assertEqual(out.count("ClientHello"), 2, out)
        self.assertIn("Server Temp Key: ECDH, prime256v1", out)


if __name__ == "__main__":
    hubproc.main()

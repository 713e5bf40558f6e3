#!/usr/bin/python3
"""--ticket-key-file: session tickets that outlive the hub process and open on a second hub.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_ticket_keys.py [-v]

The client is Python's `ssl` (OpenSSL) and `openssl s_client`: a node stack other than ours.
- RestartTest: a ticket from a hub resumes on the same hub restarted with the same key
  file (session_reused, the hub's handshakes_resumed); restarted without the file, or with
  another file, the node falls back to a full handshake and still connects.
- FailoverPairTest: two hubs running side by side with one key file accept each other's
  tickets (openssl s_client -sess_out/-sess_in reports "Reused").
- RotationTest: replacing the file and sending SIGHUP rotates the key: tickets under the
  previous key still resume, new tickets are under the new key; after the next rotation the
  first key is gone. A SIGHUP with an unusable file is refused (reload_failed) and the key
  in use stays.
- StartupTest: a missing, short or oversized key file stops the start (exit 2, one line
  naming the file); --ticket-key-file with --no-tls-tickets is refused.
Loopback only, bounded in count and time.
"""

import os
import signal
import subprocess
import tempfile
import unittest

from lib import hubproc, nodes
from lib.hubproc import stop_and_count
from lib.nodes import assert_refused_at_start as refused_at_start
from lib.nodes import bsc_close, bsc_connect, start_hub

PKI = None
LOG = "info"


def setUpModule():
    global PKI
    PKI = nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def key_file(octets: int = 80) -> str:
    """A fresh key file of `octets` random octets, made the way docs/tls.md says."""
    path = os.path.join(tempfile.mkdtemp(prefix="bschub-tk-", dir=PKI.directory), "ticket.key")
    subprocess.run(["openssl", "rand", "-out", path, str(octets)], check=True)
    return path


def client_context():
    return hubproc.node_tls_context(*PKI.node(1), PKI.ca_cert)


def ticket_from(hub, ctx):
    """Connects once (a full handshake) and returns the session with its ticket."""
    sock = bsc_connect(hub.port, ctx)
    try:
        return sock.session
    finally:
        bsc_close(sock)


def resumes(hub, ctx, session) -> bool:
    """Connects offering `session`; True if the hub resumed it. The node must connect either
    way (a refused ticket costs a full handshake, never the connection)."""
    sock = bsc_connect(hub.port, ctx, session=session)
    try:
        return sock.session_reused
    finally:
        bsc_close(sock)


class RestartTest(unittest.TestCase):
    def test_same_file_resumes_after_restart_other_or_none_does_not(self):
        path, other = key_file(), key_file()
        ctx = client_context()
        hub = start_hub("--ticket-key-file", path, log_level=LOG)
        try:
            session = ticket_from(hub, ctx)
            self.assertTrue(session.has_ticket)
            hub.wait_for_logs(r"event=ticket_key .*name=[0-9a-f]{8}", 1)
        finally:
            stop_and_count(hub)

        hub = start_hub("--ticket-key-file", path, log_level=LOG)
        try:
            self.assertTrue(resumes(hub, ctx, session))
        finally:
            c = stop_and_count(hub)
        self.assertEqual(c.get("handshakes_resumed"), 1)
        self.assertEqual(c.get("handshakes_full", 0), 0)

        for args in (("--ticket-key-file", other), ()):
            hub = start_hub(*args, log_level=LOG)
            try:
                self.assertFalse(resumes(hub, ctx, session), args)
            finally:
                c = stop_and_count(hub)
            self.assertEqual(c.get("handshakes_full"), 1)
            self.assertEqual(c.get("handshakes_resumed", 0), 0)


class FailoverPairTest(unittest.TestCase):
    def s_client(self, port, sess_flag, sess):
        node_cert, node_key = PKI.node(2)
        # `sleep 1 |` keeps stdin open until the ticket (sent after the handshake) is in.
        return subprocess.run(
            f"sleep 1 | openssl s_client -connect 127.0.0.1:{port} -tls1_3 -cert {node_cert} "
            f"-key {node_key} -CAfile {PKI.ca_cert} {sess_flag} {sess}",
            shell=True, capture_output=True, text=True, timeout=20)

    def test_two_hubs_with_one_file_open_each_others_tickets(self):
        path = key_file()
        primary = start_hub("--ticket-key-file", path, log_level=LOG)
        failover = start_hub("--ticket-key-file", path, log_level=LOG)
        sess = os.path.join(os.path.dirname(path), "sess.pem")
        try:
            first = self.s_client(primary.port, "-sess_out", sess)
            self.assertIn("New, TLSv1.3", first.stdout, first.stdout + first.stderr)
            second = self.s_client(failover.port, "-sess_in", sess)
            self.assertIn("Reused, TLSv1.3", second.stdout, second.stdout + second.stderr)
            # And back: the failover's own ticket opens on the primary.
            ctx = client_context()
            session = ticket_from(failover, ctx)
            self.assertTrue(resumes(primary, ctx, session))
        finally:
            p = stop_and_count(primary)
            f = stop_and_count(failover)
        self.assertEqual(f.get("handshakes_resumed"), 1)
        self.assertEqual(p.get("handshakes_resumed"), 1)


class RotationTest(unittest.TestCase):
    def rotate(self, hub, path, since):
        subprocess.run(["openssl", "rand", "-out", path, "80"], check=True)
        hub.send_signal(signal.SIGHUP)
        lines = hub.wait_for_logs(r"event=ticket_key_rotated", 1, since=since, timeout=10)
        self.assertEqual(len(lines), 1, "\n".join(hub.stderr_lines()))
        return lines[0]

    def test_previous_key_resumes_until_the_next_rotation(self):
        path = key_file()
        ctx = client_context()
        hub = start_hub("--ticket-key-file", path, log_level=LOG)
        try:
            under_a = ticket_from(hub, ctx)
            line = self.rotate(hub, path, 0)
            self.assertIn("previous_accepted_s=3600", line)
            # Key A is the previous key now: its ticket still resumes (and the resumed
            # session's new ticket is sealed under B).
            self.assertTrue(resumes(hub, ctx, under_a))
            under_b = ticket_from(hub, ctx)
            self.rotate(hub, path, len(hub.stderr_lines()))
            self.assertFalse(resumes(hub, ctx, under_a))  # A is gone: full handshake
            self.assertTrue(resumes(hub, ctx, under_b))   # B is the previous key
        finally:
            c = stop_and_count(hub)
        self.assertEqual(c.get("handshakes_resumed"), 2)

    def test_unusable_file_on_sighup_keeps_the_key_in_use(self):
        path = key_file()
        ctx = client_context()
        hub = start_hub("--ticket-key-file", path, log_level=LOG)
        try:
            session = ticket_from(hub, ctx)
            with open(path, "wb") as f:
                f.write(b"too short")
            since = len(hub.stderr_lines())
            hub.send_signal(signal.SIGHUP)
            lines = hub.wait_for_logs(r"event=reload_failed", 1, since=since, timeout=10)
            self.assertEqual(len(lines), 1, "\n".join(hub.stderr_lines()))
            self.assertIn("holds 9 octets", lines[0])
            self.assertTrue(resumes(hub, ctx, session))
        finally:
            c = stop_and_count(hub)
        self.assertEqual(c.get("handshakes_resumed"), 1)


class StartupTest(unittest.TestCase):
    def test_bad_key_files(self):
        missing = os.path.join(PKI.directory, "no-such.key")
        refused_at_start(self, ["--ticket-key-file", missing],
                         "cannot read ticket key file " + missing)
        short = key_file(31)
        refused_at_start(self, ["--ticket-key-file", short], short, "holds 31 octets",
                           "openssl rand -out")
        big = key_file(5000)
        refused_at_start(self, ["--ticket-key-file", big], big, "larger than 4096 octets")

    def test_needs_tickets(self):
        refused_at_start(self, ["--ticket-key-file", key_file(), "--no-tls-tickets"],
                           "--ticket-key-file needs TLS session tickets")


if __name__ == "__main__":
    hubproc.main()

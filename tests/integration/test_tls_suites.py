#!/usr/bin/python3
"""TLS 1.3 cipher-suite choice: the hub's preference wins over the client's.

    BSCHUB=build/bschub BSCHUB_LOAD=build/bschub-load /usr/bin/python3 tests/integration/test_tls_suites.py [-v]

OpenSSL and Python clients offer AES-256-GCM first; mbedTLS alone would take the client's
first choice. Here every client gets the hub's first choice among the suites it offers
(default --tls-ciphersuites, and `chacha20,aes128`), after a SIGHUP reload and a
HelloRetryRequest too, and when the ClientHello arrives in pieces; a client that
offers only a suite the hub does not allow fails the handshake, counted and logged like any
other handshake failure, while the hub keeps serving; a resumed session (ticket) keeps the
non-default suite; bschub-load --ciphersuites chacha20 runs echo traffic with nothing lost;
the option is read from the config file and checked by --check-config.
Everything is on loopback, bounded in count and time.
"""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from lib import hubproc, nodes
from lib.hubproc import load_binary, stop_and_count
from lib.nodes import bsc_close, bsc_connect, start_hub

PKI = None
LOG = "info"    # the log level of these hubs, unless a test reads debug lines
AES128 = "TLS_AES_128_GCM_SHA256"
AES256 = "TLS_AES_256_GCM_SHA384"
CHACHA = "TLS_CHACHA20_POLY1305_SHA256"
# OpenSSL's own TLS 1.3 order, written out: the client prefers AES-256-GCM.
OPENSSL_ORDER = f"{AES256}:{CHACHA}:{AES128}"
# The hub's default preference (docs/tls.md "Cipher suites"): its first suite is what every
# client that offers it gets.
HUB_DEFAULT_FIRST = CHACHA


def setUpModule():
    global PKI
    PKI = nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def s_client(hub, suites: str) -> str:
    """One `openssl s_client` handshake offering `suites` in that order; its stdout."""
    node_cert, node_key = PKI.node(1)
    r = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{hub.port}", "-tls1_3",
         "-ciphersuites", suites, "-cert", node_cert, "-key", node_key,
         "-CAfile", PKI.ca_cert],
        input="", capture_output=True, text=True, timeout=20)
    return r.stdout + r.stderr


def run_load(hub, *args) -> subprocess.CompletedProcess:
    """bschub-load against `hub` as node 1 (quiet); `args` pick the mode and the suites."""
    return subprocess.run(
        [load_binary(), "--uri", hub.uri, "--cert", PKI.node(1)[0],
         "--key", PKI.node(1)[1], "--ca", PKI.ca_cert, "--quiet", *args],
        capture_output=True, text=True, timeout=60)


def python_context() -> ssl.SSLContext:
    """Python's ssl (OpenSSL) offers its TLS 1.3 suites in OpenSSL's order: AES-256 first."""
    return hubproc.node_tls_context(*PKI.node(2), PKI.ca_cert)


def handshake_in_pieces(port: int, ctx: ssl.SSLContext, cuts) -> str:
    """A TLS handshake whose ClientHello reaches the hub in pieces (split at `cuts`, one
    send each): the hub must wait for the whole first record before it picks the suite.
    Returns the negotiated suite."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=nodes.SOCKET_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing)
    try:
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outgoing.read()
        edges = [0, *cuts, len(hello)]
        for a, b in zip(edges, edges[1:]):
            sock.sendall(hello[a:b])
            time.sleep(0.05)  # separate reads on the hub's side (not needed for the result)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                if outgoing.pending:
                    sock.sendall(outgoing.read())
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("hub closed the connection during the handshake")
                incoming.write(chunk)
        if outgoing.pending:
            sock.sendall(outgoing.read())  # the client's certificate and Finished
        return tls.cipher()[0]
    finally:
        sock.close()


class OpenSslClientTest(unittest.TestCase):
    def test_default_hub_picks_its_first_suite_not_the_clients(self):
        hub = start_hub(log_level=LOG)
        try:
            out = s_client(hub, OPENSSL_ORDER)
        finally:
            c = stop_and_count(hub)
        self.assertIn(f"New, TLSv1.3, Cipher is {HUB_DEFAULT_FIRST}", out)
        self.assertEqual(c.get("handshakes_full"), 1)

    def test_chacha20_first_on_the_hub(self):
        hub = start_hub("--tls-ciphersuites", "chacha20,aes128", log_level=LOG)
        try:
            out = s_client(hub, OPENSSL_ORDER)
            # The hub's second choice when the client does not offer its first.
            second = s_client(hub, f"{AES256}:{AES128}")
        finally:
            hub.stop()
        self.assertIn(f"New, TLSv1.3, Cipher is {CHACHA}", out)
        self.assertIn(f"New, TLSv1.3, Cipher is {AES128}", second)

    def test_hello_retry_request_keeps_the_chosen_suite(self):
        # OpenSSL sends an X25519 key share; a P-256-only hub asks again (HelloRetryRequest),
        # and the second ClientHello goes to the same mbedTLS session and config.
        hub = start_hub("--tls-groups", "p256", "--tls-ciphersuites", "chacha20,aes128",
                        log_level=LOG)
        node_cert, node_key = PKI.node(1)
        try:
            r = subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{hub.port}", "-tls1_3",
                 "-groups", "X25519:P-256", "-ciphersuites", OPENSSL_ORDER, "-cert", node_cert,
                 "-key", node_key, "-CAfile", PKI.ca_cert, "-msg"],
                input="", capture_output=True, text=True, timeout=20)
        finally:
            c = stop_and_count(hub)
        self.assertEqual(r.stdout.count("ClientHello"), 2, r.stdout)
        self.assertIn(f"New, TLSv1.3, Cipher is {CHACHA}", r.stdout)
        self.assertEqual(c.get("handshakes_full"), 1)

    def test_preference_survives_a_certificate_reload(self):
        hub = start_hub("--tls-ciphersuites", "chacha20,aes128", log_level=LOG)
        try:
            mark = hub.mark()
            hub.send_signal(signal.SIGHUP)
            hub.wait_for_log(r"event=reloaded", since=mark, timeout=10.0)
            out = s_client(hub, OPENSSL_ORDER)
        finally:
            hub.stop()
        self.assertIn(f"New, TLSv1.3, Cipher is {CHACHA}", out)

    def test_client_without_an_allowed_suite_fails_and_the_hub_serves_on(self):
        hub = start_hub("--tls-ciphersuites", "chacha20,aes128", log_level=LOG)
        try:
            refused = s_client(hub, AES256)
            hub.wait_for_log(r"event=tls_handshake_failed", timeout=10.0)
            # The next client is served as usual.
            sock = bsc_connect(hub.port, python_context())
            cipher = sock.cipher()[0]
            bsc_close(sock)
            lines = hub.logs_since(0, r"event=tls_handshake_failed")
        finally:
            c = stop_and_count(hub)
        self.assertNotIn("Cipher is TLS_", refused.replace("Cipher is (NONE)", ""))
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('reason="no cipher suite in common', lines[0])
        self.assertEqual(cipher, CHACHA)
        self.assertEqual(c.get("tls_handshake_failed"), 1)
        self.assertEqual(c.get("handshakes_full"), 1)
        self.assertEqual(c.get("nodes_connected"), 1)


class PythonClientTest(unittest.TestCase):
    def test_python_ssl_gets_the_hubs_first_suite(self):
        for hub_list, want in ((None, HUB_DEFAULT_FIRST), ("chacha20,aes128", CHACHA),
                               ("aes256", AES256)):
            with self.subTest(hub=hub_list):
                hub = start_hub(*(["--tls-ciphersuites", hub_list] if hub_list else []),
                                log_level=LOG)
                try:
                    sock = bsc_connect(hub.port, python_context())
                    cipher = sock.cipher()[0]
                    bsc_close(sock)
                finally:
                    hub.stop()
                self.assertEqual(cipher, want)

    def test_client_hello_in_pieces(self):
        hub = start_hub("--tls-ciphersuites", "aes128,chacha20", log_level=LOG)
        try:
            cipher = handshake_in_pieces(hub.port, python_context(), cuts=[1, 3, 5, 9, 60])
        finally:
            c = stop_and_count(hub)
        self.assertEqual(cipher, AES128)
        self.assertEqual(c.get("handshakes_full"), 1)
        self.assertEqual(c.get("tls_handshake_failed", 0), 0)

    def test_resumed_session_keeps_the_non_default_suite(self):
        hub = start_hub("--tls-ciphersuites", "chacha20,aes128", log_level=LOG)
        try:
            ctx = python_context()
            first = bsc_connect(hub.port, ctx)
            session = first.session
            first_cipher = first.cipher()[0]
            bsc_close(first)
            second = bsc_connect(hub.port, ctx, session=session)
            reused, second_cipher = second.session_reused, second.cipher()[0]
            bsc_close(second)
        finally:
            c = stop_and_count(hub)
        self.assertEqual(first_cipher, CHACHA)
        self.assertTrue(reused)
        self.assertEqual(second_cipher, CHACHA)
        self.assertEqual(c.get("handshakes_full"), 1)
        self.assertEqual(c.get("handshakes_resumed"), 1)


class LoadToolTest(unittest.TestCase):
    def test_echo_with_chacha20_loses_nothing(self):
        hub = start_hub("--workers", "2", log_level="debug")
        try:
            run = run_load(hub, "--mode", "echo", "--nodes", "4", "--duration", "2",
                           "--size", "24-1497", "--ciphersuites", "chacha20")
            suites = hub.wait_for_logs(r"event=tls_established", 4)
        finally:
            c = stop_and_count(hub)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("lost=0 dup=0 corrupt=0 reorder=0 errors=0", run.stdout)
        self.assertEqual(len(suites), 4, suites)
        for line in suites:
            self.assertIn("suite=TLS1-3-CHACHA20-POLY1305-SHA256", line)
        self.assertEqual(c.get("nodes_connected"), 4)

    def test_server_preference_over_an_mbedtls_client(self):
        hub = start_hub("--tls-ciphersuites", "chacha20,aes256", log_level="debug")
        try:
            run = run_load(hub, "--mode", "connect", "--nodes", "2",
                           "--ciphersuites", "aes256,aes128,chacha20")
            suites = hub.wait_for_logs(r"event=tls_established", 2)
        finally:
            hub.stop()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(len(suites), 2, suites)
        for line in suites:
            self.assertIn("suite=TLS1-3-CHACHA20-POLY1305-SHA256", line)

    def test_bad_list_exits_2_with_one_line(self):
        run = subprocess.run(
            [load_binary(), "--uri", "ws://127.0.0.1:9", "--ciphersuites",
             "aes128,des"], capture_output=True, text=True, timeout=10)
        self.assertEqual(run.returncode, 2)
        self.assertEqual(run.stderr.strip().count("\n"), 0, run.stderr)
        self.assertIn("--ciphersuites wants names from aes128, aes256, chacha20", run.stderr)


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bschub-suites-cfg-")
        self.addCleanup(shutil.rmtree, self.dir)

    def check(self, value):
        path = os.path.join(self.dir, "hub.toml")
        with open(path, "w") as f:
            f.write(f'cert = "{PKI.hub_cert}"\nkey = "{PKI.hub_key}"\nca = "{PKI.ca_cert}"\n'
                    f'tls-ciphersuites = "{value}"\n')
        run = subprocess.run([hubproc.find_binary(), "--check-config", path],
                             capture_output=True, text=True, timeout=30)
        return run, path

    def test_file_value_is_checked(self):
        good, path = self.check("chacha20,aes128")
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertEqual(good.stdout.strip(), f"{path}: OK")
        bad, path = self.check("aes128,rc4")
        self.assertEqual(bad.returncode, 2)
        self.assertEqual(
            bad.stderr.strip(),
            f"bschub: {path}:4: --tls-ciphersuites wants names from aes128, aes256, chacha20 "
            f"(comma-separated, each once), not 'aes128,rc4'")


if __name__ == "__main__":
    hubproc.main()

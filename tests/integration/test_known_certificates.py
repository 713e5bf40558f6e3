#!/usr/bin/python3
"""The known-certificate cache (--known-certificates): a node returning with the certificate
a configured CA was seen to sign skips the CA signature check, and nothing else.

    BSCHUB=build/bschub BSCHUB_CTL=build/bschub-ctl /usr/bin/python3 tests/integration/test_known_certificates.py [-v]

Clients: Python `ssl` and `openssl s_client` (with and without the CA in the chain it sends).
Each case reads the hub's /metrics: bschub_tls_known_certificate_lookups_total{result=hit|miss}
and bschub_tls_known_certificates.
- A returning node is a hit; a node that sends its CA certificate along is remembered too.
- Still refused although a known certificate shares its subject: a certificate with the same
  subject, key and issuer name but signed by an impostor CA (unknown_ca); a certificate that
  was known while valid and has since expired (certificate_expired); a known certificate
  revoked by a CRL picked up on SIGHUP (certificate_revoked).
- `bschub-ctl deny add` empties the cache; --known-certificates 0 never remembers.
Loopback only, bounded in count and time.
"""

import os
import signal
import ssl
import subprocess
import tempfile
import time
import unittest

from lib import certs, hubproc, nodes
from lib.hubproc import stop_and_count
from lib.metrics import http_request, parse_metrics, total
from lib.nodes import bsc_close, bsc_connect, refused_alert, start_hub

PKI = None
LOG = "info"


def setUpModule():
    global PKI
    PKI = nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def cnf():
    return os.path.join(PKI.directory, "openssl.cnf")


def known(hub):
    """(hits, misses, size) from the hub's /metrics."""
    status, _, body = http_request(hub.metrics_port, "/metrics")
    assert status == 200, status
    s = parse_metrics(body)
    return (total(s, "bschub_tls_known_certificate_lookups_total", result="hit"),
            total(s, "bschub_tls_known_certificate_lookups_total", result="miss"),
            total(s, "bschub_tls_known_certificates"))


def connect_once(hub, cert, key):
    """A full handshake (a fresh context: no ticket) and a BACnet/SC connect, then close."""
    sock = bsc_connect(hub.port, hubproc.node_tls_context(cert, key, PKI.ca_cert))
    bsc_close(sock)


def assert_alert(test, hub, cert, key, alert):
    exc = refused_alert(hub.port, cert, key)
    test.assertIsInstance(exc, ssl.SSLError, "the node was not refused")
    test.assertIn(alert, str(exc).upper())


class KnownCertificateTest(unittest.TestCase):
    def setUp(self):
        # Each case its own state: a deny list entry lasts (--state-dir).
        self.dir = tempfile.mkdtemp(prefix="known-", dir=PKI.directory)
        self.hub = start_hub("--admin-socket", os.path.join(self.dir, "admin.sock"),
                             "--state-dir", self.dir, log_level=LOG, metrics=True)

    def tearDown(self):
        stop_and_count(self.hub)

    def test_returning_node_is_a_hit(self):
        cert, key = PKI.node(0)
        connect_once(self.hub, cert, key)
        self.assertEqual(known(self.hub), (0, 1, 1))
        connect_once(self.hub, cert, key)
        connect_once(self.hub, cert, key)
        self.assertEqual(known(self.hub), (2, 1, 1))

    def test_node_sending_its_ca_along_is_remembered(self):
        cert, key = PKI.node(1)
        for expect in ((0, 1, 1), (1, 1, 1)):
            out = subprocess.run(
                f"sleep 0.5 | openssl s_client -connect 127.0.0.1:{self.hub.port} -tls1_3 "
                f"-cert {cert} -cert_chain {PKI.ca_cert} -key {key} -CAfile {PKI.ca_cert}",
                shell=True, capture_output=True, text=True, timeout=20)
            self.assertIn("New, TLSv1.3", out.stdout, out.stdout + out.stderr)
            self.assertEqual(known(self.hub), expect)

    def test_impostor_with_same_subject_key_and_issuer_name_is_refused(self):
        cert, key = PKI.node(2)
        connect_once(self.hub, cert, key)  # the genuine certificate is known now
        # An impostor CA with the site CA's name issues node3's subject over node3's key.
        d = PKI.directory
        fake_ca = os.path.join(d, "impostor-ca.pem")
        subprocess.run(["openssl", "req", "-config", cnf(), "-new", "-x509",
                        "-key", PKI.foreign_ca_key, "-sha256", "-days", "30",
                        "-subj", "/O=bschub tests/CN=bschub test site CA",
                        "-extensions", "v3_ca", "-out", fake_ca], check=True,
                       capture_output=True)
        forged = os.path.join(d, "forged-node3.pem")
        subject = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-subject",
                                  "-nameopt", "compat"], check=True, capture_output=True,
                                 text=True).stdout.strip().removeprefix("subject=")
        csr = os.path.join(d, "forged-node3.csr")
        subprocess.run(["openssl", "req", "-config", cnf(), "-new", "-key", key, "-sha256",
                        "-subj", subject, "-out", csr], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", fake_ca,
                        "-CAkey", PKI.foreign_ca_key, "-set_serial", "7", "-days", "30",
                        "-sha256", "-extfile", cnf(), "-extensions", "v3_node", "-out", forged],
                       check=True, capture_output=True)
        assert_alert(self, self.hub, forged, key, "UNKNOWN_CA")
        hits, misses, size = known(self.hub)
        self.assertEqual((hits, misses, size), (0, 2, 1))

    def test_known_certificate_that_expires_is_refused(self):
        start = time.time()
        cert, key = certs._make_dated_leaf(PKI.directory, cnf(), "short-lived", "short-lived",
                                           (PKI.ca_cert, PKI.ca_key), certs._utc(-60),
                                           certs._utc(6))
        connect_once(self.hub, cert, key)
        connect_once(self.hub, cert, key)
        self.assertEqual(known(self.hub)[:2], (1, 1))
        time.sleep(max(0.0, start + 8 - time.time()))  # past its notAfter
        assert_alert(self, self.hub, cert, key, "CERTIFICATE_EXPIRED")
        self.assertEqual(known(self.hub)[:2], (2, 1))  # known, and refused all the same

    def test_known_certificate_revoked_on_reload_is_refused(self):
        cert, key = PKI.node(3)
        crl_path = os.path.join(PKI.directory, "live.crl")
        empty = certs.make_crl(PKI, "empty", [])
        os.replace(empty, crl_path)
        hub = start_hub("--crl", crl_path, log_level=LOG, metrics=True)
        try:
            connect_once(hub, cert, key)
            connect_once(hub, cert, key)
            self.assertEqual(known(hub)[:2], (1, 1))
            os.replace(certs.make_crl(PKI, "revokes-node4", [cert]), crl_path)
            mark = len(hub.stderr_lines())
            hub.send_signal(signal.SIGHUP)
            self.assertTrue(hub.wait_for_logs(r"event=reloaded", 1, since=mark, timeout=10))
            assert_alert(self, hub, cert, key, "CERTIFICATE_REVOKED")
            other_cert, other_key = PKI.node(0)
            connect_once(hub, other_cert, other_key)
        finally:
            stop_and_count(hub)

    def test_deny_list_change_empties_the_cache(self):
        for i in (0, 1):
            connect_once(self.hub, *PKI.node(i))
        self.assertEqual(known(self.hub)[2], 2)
        fp = subprocess.run(["openssl", "x509", "-in", PKI.node(2)[0], "-noout",
                             "-fingerprint", "-sha256"], check=True, capture_output=True,
                            text=True).stdout.split("=", 1)[1].strip()
        ctl = subprocess.run([hubproc.ctl_binary(), "--admin-socket",
                              os.path.join(self.dir, "admin.sock"), "deny", "add",
                              "certificate", fp], capture_output=True, text=True, timeout=20)
        self.assertEqual(ctl.returncode, 0, ctl.stdout + ctl.stderr)
        self.assertEqual(known(self.hub)[2], 0)
        connect_once(self.hub, *PKI.node(0))  # checked in full again, then known again
        self.assertEqual(known(self.hub)[1:], (3, 1))


class CacheOffTest(unittest.TestCase):
    def test_zero_remembers_nothing(self):
        hub = start_hub("--known-certificates", "0", log_level=LOG, metrics=True)
        try:
            for _ in range(3):
                connect_once(hub, *PKI.node(0))
            self.assertEqual(known(hub), (0, 3, 0))
        finally:
            stop_and_count(hub)


if __name__ == "__main__":
    hubproc.main()

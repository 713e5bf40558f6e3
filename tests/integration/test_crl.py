#!/usr/bin/python3
"""Revocation (--crl): a node whose certificate a CRL of the site CA lists is refused with
the TLS alert certificate_revoked and a log line that says why; everyone else connects.
PEM and DER CRLs; a stale CRL (past its next-update) still applies and refuses no one by
itself; a CRL the hub cannot trust stops the start (exit 2) and is refused on SIGHUP, which
keeps the CRLs in use.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_crl.py -v

The CRLs are made with `openssl ca -revoke` / `-gencrl` (lib/certs.py make_crl); the nodes
are Python's ssl (OpenSSL) and Debian's websockets. Every wait is bounded.
"""

import asyncio
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import unittest

from lib import certs, hubproc, nodes
from lib.metrics import http_request, parse_metrics, total
from lib.nodes import assert_refused_at_start as refused_at_start

IO = 5.0
PKI = None
CRL = {}      # name -> path
REVOKED = 2   # PKI.node(2), node3, is revoked by every site CRL here


def setUpModule():
    global PKI
    PKI = nodes.setup_pki(n_nodes=3)
    revoked = [PKI.node(REVOKED)[0]]
    CRL["pem"] = certs.make_crl(PKI, "site", revoked)
    CRL["der"] = certs.make_crl(PKI, "site-der", revoked, der=True)
    CRL["stale"] = certs.make_crl(PKI, "stale", revoked, stale=True)
    # node2 as well, for the reload that picks up a new list.
    CRL["more"] = certs.make_crl(PKI, "more", revoked + [PKI.node(1)[0]])
    CRL["foreign"] = certs.make_crl(PKI, "foreign", [],
                                    ca=(PKI.foreign_ca_cert, PKI.foreign_ca_key))
    CRL["garbage"] = os.path.join(PKI.directory, "garbage.crl")
    with open(CRL["garbage"], "wb") as f:
        f.write(b"this is not a certificate revocation list\n" * 4)
    # Signed by the foreign CA's key but naming the site CA as issuer: a forged list.
    CRL["forged"] = forged_crl()


def forged_crl():
    """A CRL whose issuer name is the site CA's but whose signature is the foreign CA's."""
    d = tempfile.mkdtemp(prefix="forged-", dir=PKI.directory)
    fake_ca = os.path.join(d, "fake-ca.pem")
    subject = "/O=bschub tests/CN=bschub test site CA"  # as lib/certs.py makes it
    # A self-signed certificate with the site CA's subject over the foreign CA's key.
    subprocess.run(["openssl", "req", "-config", os.path.join(PKI.directory, "openssl.cnf"),
                    "-new", "-x509", "-key", PKI.foreign_ca_key, "-sha256", "-days", "30",
                    "-subj", subject, "-extensions", "v3_ca", "-out", fake_ca],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return certs.make_crl(PKI, "forged", [], ca=(fake_ca, PKI.foreign_ca_key))


def tearDownModule():
    nodes.cleanup_pki()


class CrlCase(unittest.IsolatedAsyncioTestCase):
    HUB_ARGS = ()
    METRICS = False

    async def asyncSetUp(self):
        loop = asyncio.get_running_loop()
        self.hub = await loop.run_in_executor(None, lambda: nodes.start_hub(
            *self.hub_args(), log_level="debug", metrics=self.METRICS))

    def hub_args(self):
        return self.HUB_ARGS

    async def asyncTearDown(self):
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: self.hub.stop(check=False))

    async def assert_revoked(self, index, label):
        cert, key = PKI.node(index)
        mark = self.hub.mark()
        loop = asyncio.get_running_loop()
        port = self.hub.port
        exc = await loop.run_in_executor(None, lambda: nodes.refused_alert(port, cert, key))
        self.assertIsInstance(exc, ssl.SSLError, f"{label}: the revoked node was not refused")
        self.assertIn("CERTIFICATE_REVOKED", str(exc).upper(),
                      f"{label}: the node did not get the alert certificate_revoked")
        line = self.hub.wait_for_log(r"event=tls_handshake_failed", mark, IO)
        self.assertIsNotNone(line, "no tls_handshake_failed; tail:\n" + self.hub.stderr_tail())
        serial = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-serial"],
                                stdout=subprocess.PIPE, text=True).stdout.strip()
        self.assertIn('reason="certificate revoked (serial ', line)
        # mbedTLS prints the serial as colon-separated hex pairs.
        hexpairs = ":".join(serial.split("=", 1)[1][i:i + 2]
                            for i in range(0, len(serial.split("=", 1)[1]), 2))
        self.assertIn(hexpairs.upper(), line.upper(), "the log does not name the serial")

    async def assert_admitted(self, index):
        node = await nodes.connect_node(self.hub, cert_index=index, name=f"node{index}")
        await node.heartbeat()
        await node.close()


class PemCrlTest(CrlCase):
    def hub_args(self):
        return ("--crl", CRL["pem"])

    async def test_revoked_refused_others_admitted(self):
        await self.assert_revoked(REVOKED, "PEM CRL")
        await self.assert_admitted(0)
        await self.assert_admitted(1)
        self.assertEqual(self.hub.logs_since(0, r"event=crl_stale"), [])


class DerCrlTest(CrlCase):
    def hub_args(self):
        return ("--crl", CRL["der"])

    async def test_revoked_refused_others_admitted(self):
        await self.assert_revoked(REVOKED, "DER CRL")
        await self.assert_admitted(0)


class StaleCrlTest(CrlCase):
    METRICS = True

    def hub_args(self):
        return ("--crl", CRL["stale"])

    async def test_stale_crl_logged_still_applied_refuses_no_one_else(self):
        lines = self.hub.logs_since(0, r"event=crl_stale")
        self.assertEqual(len(lines), 1, self.hub.stderr_tail())
        self.assertIn(CRL["stale"], lines[0])
        self.assertIn("bschub test site CA", lines[0])
        self.assertRegex(lines[0], r"next_update=\d{4}-\d\d-\d\dT")
        await self.assert_admitted(0)
        await self.assert_revoked(REVOKED, "stale CRL")
        loop = asyncio.get_running_loop()
        status, _, body = await loop.run_in_executor(
            None, lambda: http_request(self.hub.metrics_port, "/metrics"))
        self.assertEqual(status, 200)
        s = parse_metrics(body)
        self.assertEqual(total(s, "bschub_tls_crls", state="stale"), 1)
        self.assertEqual(total(s, "bschub_tls_crls", state="current"), 0)


class StartupRefusalTest(unittest.TestCase):

    def test_foreign_ca_crl(self):
        refused_at_start(self, ["--crl", CRL["foreign"]], CRL["foreign"], "foreign CA",
                           "not one of the --ca certificates")

    def test_garbage_crl(self):
        refused_at_start(self, ["--crl", CRL["garbage"]], CRL["garbage"], "bad CRL")

    def test_forged_crl(self):
        refused_at_start(self, ["--crl", CRL["forged"]], CRL["forged"], "signature")

    def test_missing_crl(self):
        missing = os.path.join(PKI.directory, "nope.crl")
        refused_at_start(self, ["--crl", missing], "cannot read CRL " + missing)

    def test_at_most_16(self):
        refused_at_start(self, ["--crl", CRL["pem"]] * 17, "--crl may be given at most 16 times")

    def test_config_file_list(self):
        conf = os.path.join(PKI.directory, "crl.toml")
        with open(conf, "w") as f:
            f.write(f'cert = "{PKI.hub_cert}"\nkey = "{PKI.hub_key}"\nca = "{PKI.ca_cert}"\n'
                    f'crl = ["{CRL["pem"]}", "{CRL["der"]}"]\n')
        p = subprocess.run([hubproc.find_binary(), "--check-config", conf],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(conf, "w") as f:
            f.write(f'cert = "{PKI.hub_cert}"\nkey = "{PKI.hub_key}"\nca = "{PKI.ca_cert}"\n'
                    f'crl = ["{CRL["pem"]}", "{CRL["foreign"]}"]\n')
        p = subprocess.run([hubproc.find_binary(), "--check-config", conf],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(CRL["foreign"], p.stderr)


class ReloadTest(CrlCase):
    """The hub reads its CRL from a copy that the test overwrites before SIGHUP."""
    METRICS = True

    def hub_args(self):
        self.dir = tempfile.mkdtemp(prefix="bschub-it-crl-")
        self.crl = os.path.join(self.dir, "live.crl")
        shutil.copyfile(CRL["pem"], self.crl)
        return ("--crl", self.crl)

    async def asyncTearDown(self):
        await super().asyncTearDown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def install(self, src):
        shutil.copyfile(src, self.crl + ".tmp")
        os.replace(self.crl + ".tmp", self.crl)

    async def scrape(self):
        loop = asyncio.get_running_loop()
        status, _, body = await loop.run_in_executor(
            None, lambda: http_request(self.hub.metrics_port, "/metrics"))
        self.assertEqual(status, 200)
        return parse_metrics(body)

    async def test_broken_crl_keeps_the_old_set_and_a_new_one_applies(self):
        self.install(CRL["garbage"])
        mark = self.hub.mark()
        self.hub.send_signal(signal.SIGHUP)
        line = self.hub.wait_for_log(r"event=reload_failed", mark, IO)
        self.assertIsNotNone(line, "no reload_failed; tail:\n" + self.hub.stderr_tail())
        self.assertIn(self.crl, line)
        # The CRL loaded at start still applies.
        await self.assert_revoked(REVOKED, "after a failed reload")
        await self.assert_admitted(1)
        s = await self.scrape()
        self.assertEqual(total(s, "bschub_tls_reloads_total", result="failed"), 1)
        self.assertEqual(total(s, "bschub_tls_crls", state="current"), 1)
        # A foreign CA's CRL is refused the same way.
        self.install(CRL["foreign"])
        mark = self.hub.mark()
        self.hub.send_signal(signal.SIGHUP)
        self.assertIsNotNone(self.hub.wait_for_log(r"event=reload_failed", mark, IO))
        # A good new list is read on SIGHUP: node2 is now refused too.
        self.install(CRL["more"])
        mark = self.hub.mark()
        self.hub.send_signal(signal.SIGHUP)
        self.assertIsNotNone(self.hub.wait_for_log(r"event=reloaded", mark, IO),
                             self.hub.stderr_tail())
        await self.assert_revoked(1, "revoked by the reloaded CRL")
        await self.assert_admitted(0)
        s = await self.scrape()
        self.assertEqual(total(s, "bschub_tls_reloads_total", result="failed"), 2)
        self.assertEqual(total(s, "bschub_tls_reloads_total", result="ok"), 1)


if __name__ == "__main__":
    hubproc.main()

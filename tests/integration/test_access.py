#!/usr/bin/python3
"""Operators control who is on the network: identity pinning, the deny list, admin
disconnects, and state that lasts across restarts (issue 16).

    BSCHUB=build/bschub BSCHUB_CTL=build/bschub-ctl /usr/bin/python3 tests/integration/test_access.py -v

Nodes are the independent Python client of lib/nodes.py (Debian's websockets + ssl, our
BVLC-SC codec, openssl-made certificates); the operator is bschub-ctl on the admin socket.
Each test starts its own hub with its own state directory. Every wait is bounded.
"""

import asyncio
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import tempfile
import unittest

from lib import bvlc, certs, hubproc, nodes
from lib.metrics import http_request, parse_metrics, total

IO = 5.0
ERROR_CLASS_SECURITY = 4
ACCESS_DENIED = 85


def setUpModule():
    nodes.setup_pki(n_nodes=4)


def tearDownModule():
    nodes.cleanup_pki()


def key_fingerprint(cert_path):
    """SHA-256 of the certificate's SubjectPublicKeyInfo (DER), as `deny add key` takes it."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def cert_fingerprint(cert_path):
    der = subprocess.run(["openssl", "x509", "-in", cert_path, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


class AccessCase(unittest.IsolatedAsyncioTestCase):
    """A hub with --state-dir and --admin-socket in a fresh directory per test."""

    HUB_ARGS = ()

    async def asyncSetUp(self):
        self.dir = tempfile.mkdtemp(prefix="bschub-access-")
        self.state = os.path.join(self.dir, "state")
        self.sock = os.path.join(self.dir, "admin.sock")
        self.hub = None
        self.open_nodes = []
        await self.start()

    async def start(self, *extra):
        args = ("--state-dir", self.state, "--admin-socket", self.sock) + self.HUB_ARGS + extra
        loop = asyncio.get_running_loop()
        self.hub = await loop.run_in_executor(None, lambda: nodes.start_hub(*args, metrics=True))

    async def restart(self):
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.hub.stop)
        await self.start()

    async def asyncTearDown(self):
        for n in self.open_nodes:
            await n.close()
        if self.hub:
            self.hub.stop()
            problems = hubproc.sanitizer_lines(self.hub)
            self.assertEqual(problems, [], "\n".join(problems))
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctl(self, *args, expect_rc=0):
        r = subprocess.run([hubproc.ctl_binary(), "--admin-socket", self.sock, *args],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, expect_rc,
                         f"bschub-ctl {' '.join(args)}: rc {r.returncode}\n{r.stdout}{r.stderr}")
        return r.stdout + r.stderr

    async def connect(self, cert_index, uuid=None, vmac=None, name="node"):
        n = await nodes.connect_node(self.hub, vmac=vmac, uuid=uuid, cert_index=cert_index,
                                     name=name)
        self.open_nodes.append(n)
        return n

    async def denied_at_tls(self, cert_index):
        """The hub ends the TLS session right after the handshake with the alert
        access_denied (websockets reports it as the cause of a failed upgrade)."""
        try:
            n = await nodes.connect_node(self.hub, cert_index=cert_index)
        except Exception as exc:  # noqa: BLE001 - inspected below
            chain, e = [], exc
            while e is not None:
                chain.append(e)
                e = e.__cause__ or e.__context__
            alerts = [e for e in chain if isinstance(e, ssl.SSLError)]
            self.assertTrue(alerts, f"no TLS alert in {chain!r}")
            self.assertIn("ACCESS_DENIED", str(alerts[0]).upper())
            return
        self.open_nodes.append(n)
        self.fail("a denied certificate connected")

    async def refused(self, cert_index, uuid, vmac=None):
        """A Connect-Request for `uuid` with certificate `cert_index` gets the NAK SECURITY /
        ACCESS_DENIED with a reason, then the hub closes."""
        vmac = vmac or bvlc.random_vmac()
        ws, lport = await nodes.handshake(self.hub, vmac, uuid, 0x4242,
                                          nodes.node_ctx(cert_index))
        n = nodes.Node(ws, vmac, uuid, lport, "refused")
        self.open_nodes.append(n)
        got = await n.recv(what="NAK")
        prefix = nodes.nak_prefix(0x4242, bvlc.CONNECT_REQUEST, ACCESS_DENIED,
                                  error_class=ERROR_CLASS_SECURITY)
        self.assertEqual(got[:len(prefix)], prefix, bvlc.describe(got))
        details = got[len(prefix):].decode()
        self.assertIn(bvlc.uuid_str(uuid), details)
        await n.expect_closed()
        return details


class PinningTest(AccessCase):
    async def test_takeover_refused_and_the_victim_keeps_routing(self):
        victim_uuid = bvlc.random_uuid()
        victim = await self.connect(0, victim_uuid, name="victim")
        bystander = await self.connect(2, name="bystander")
        details = await self.refused(1, victim_uuid)
        self.assertIn("pinned", details)
        await victim.assert_silent(0.5, "no Disconnect-Request: the pinned node stays")
        await nodes.exchange(victim, bystander)
        self.assertIsNotNone(self.hub.wait_for_log(r"event=identity_refused", timeout=IO))

    async def test_same_certificate_still_replaces_its_old_session(self):
        uuid = bvlc.random_uuid()
        old = await self.connect(0, uuid, name="old")
        new = await self.connect(0, uuid, name="new")
        await old.expect_disconnect_request()
        bystander = await self.connect(2, name="bystander")
        await nodes.exchange(new, bystander)

    async def test_pin_lasts_across_a_restart_and_clear_releases_it(self):
        uuid = bvlc.random_uuid()
        first = await self.connect(0, uuid)
        await first.close()
        self.open_nodes.remove(first)
        self.assertIn(bvlc.uuid_str(uuid), self.ctl("pin", "list"))
        await self.restart()
        self.assertIn(bvlc.uuid_str(uuid), self.ctl("pin", "list"))
        await self.refused(1, uuid)
        out = self.ctl("pin", "clear", bvlc.uuid_str(uuid))
        self.assertIn("cleared", out)
        self.ctl("pin", "clear", bvlc.uuid_str(uuid), expect_rc=1)  # nothing left to clear
        await self.connect(1, uuid)  # the next certificate pins it anew
        await self.refused(0, uuid)

    async def test_audit_log_lists_the_connect_the_refusal_and_the_admin_action(self):
        uuid = bvlc.random_uuid()
        await self.connect(0, uuid)
        await self.refused(1, uuid)
        self.ctl("pin", "clear", bvlc.uuid_str(uuid))
        deadline = asyncio.get_running_loop().time() + IO
        while True:
            out = self.ctl("history", "--uuid", bvlc.uuid_str(uuid))
            if "connect" in out and "refuse" in out:
                break
            self.assertLess(asyncio.get_running_loop().time(), deadline, out)
            await asyncio.sleep(0.3)  # the store writes in batches
        self.assertIn("pinned", out)
        out = self.ctl("history", "--limit", "50")
        self.assertIn("pin clear", out)


class CrashTest(AccessCase):
    async def test_kill_9_while_auditing_loses_no_committed_row(self):
        uuids = [bvlc.random_uuid() for _ in range(12)]
        for u in uuids:
            n = await self.connect(0, u)
            await n.close()
            self.open_nodes.remove(n)
        committed = await self.wait_history(lambda out: out.count(" connect ") >= 12)
        # Churn on, then SIGKILL in the middle of it: records are queued and being written.
        churn = asyncio.ensure_future(self.churn())
        await asyncio.sleep(0.4)
        self.hub.send_signal(signal.SIGKILL)
        self.assertEqual(self.hub.wait(5.0), -signal.SIGKILL)
        await asyncio.gather(churn, return_exceptions=True)
        db = os.path.join(self.state, "bschub.db")
        with sqlite3.connect(db) as conn:
            self.assertEqual(conn.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        await self.start()  # the same directory: the store opens (the lock died with the hub)
        after = self.ctl("history", "--limit", "10000")
        for line in committed.splitlines():
            self.assertIn(line, after, "a row seen committed before the kill is gone")
        for u in uuids:  # the pins came back too: another key is refused
            self.assertIn(bvlc.uuid_str(u), self.ctl("pin", "list"))
        await self.refused(1, uuids[0])

    async def churn(self):
        while True:
            try:
                n = await nodes.connect_node(self.hub, cert_index=2)
                await n.close()
            except Exception:  # noqa: BLE001 - the hub was killed under us
                return

    async def wait_history(self, done):
        deadline = asyncio.get_running_loop().time() + IO
        while True:
            out = self.ctl("history", "--limit", "10000")
            if done(out):
                return out
            self.assertLess(asyncio.get_running_loop().time(), deadline, out)
            await asyncio.sleep(0.3)  # the store writes in batches


class CertificateBindingTest(AccessCase):
    HUB_ARGS = ("--identity-binding", "certificate")

    async def test_uuid_must_be_the_certificates(self):
        uuid = bvlc.random_uuid()
        cert, key = certs.make_leaf(nodes.PKI, bvlc.uuid_str(uuid))  # CN = the UUID
        ctx = nodes.client_ctx(cert, key)
        n = await nodes.connect_node(self.hub, uuid=uuid, ctx=ctx)
        self.open_nodes.append(n)
        other = bvlc.random_uuid()
        ws, lport = await nodes.handshake(self.hub, bvlc.random_vmac(), other, 7, ctx)
        m = nodes.Node(ws, b"", other, lport)
        self.open_nodes.append(m)
        got = await m.recv(what="NAK")
        prefix = nodes.nak_prefix(7, bvlc.CONNECT_REQUEST, ACCESS_DENIED,
                                  error_class=ERROR_CLASS_SECURITY)
        self.assertEqual(got[:len(prefix)], prefix)
        self.assertIn("does not name", got[len(prefix):].decode())
        # A certificate without a UUID in it names none.
        await self.refused(0, bvlc.random_uuid())


class RevocationRecheckTest(AccessCase):
    """A reload (SIGHUP or `bschub-ctl reload`) re-checks the nodes already connected."""

    async def asyncSetUp(self):
        self.crl_dir = tempfile.mkdtemp(prefix="bschub-crl-")
        self.crl = os.path.join(self.crl_dir, "site.crl")
        shutil.copy(certs.make_crl(nodes.PKI, "none-revoked"), self.crl)
        self.HUB_ARGS = ("--crl", self.crl)
        await super().asyncSetUp()

    async def asyncTearDown(self):
        await super().asyncTearDown()
        shutil.rmtree(self.crl_dir, ignore_errors=True)

    def revoke(self, index, name):
        fresh = certs.make_crl(nodes.PKI, name, [nodes.PKI.node(index)[0]])
        tmp = self.crl + ".new"
        shutil.copy(fresh, tmp)
        os.replace(tmp, self.crl)  # atomically, as an operator should

    async def test_sighup_disconnects_a_node_the_new_crl_revokes(self):
        revoked = await self.connect(1, name="revoked")
        kept = await self.connect(0, name="kept")
        other = await self.connect(2, name="other")
        self.revoke(1, "node1-revoked")
        mark = self.hub.mark()
        self.hub.send_signal(signal.SIGHUP)
        self.assertEqual(await revoked.expect_closed(), 1008)
        line = self.hub.wait_for_log(r"event=reload_recheck disconnected=1", since=mark,
                                     timeout=IO)
        self.assertIsNotNone(line, self.hub.stderr_tail())
        self.assertIsNotNone(self.hub.wait_for_log(r"event=node_removed .*cause=revoked",
                                                   since=mark, timeout=IO))
        await nodes.exchange(kept, other)  # the others stay
        with self.assertRaises(Exception) as caught:  # and it cannot come back
            await nodes.connect_node(self.hub, cert_index=1)
        self.assertIn("REVOKED", repr(caught.exception.__cause__ or caught.exception).upper())

    async def test_ctl_reload_reports_the_recheck_and_a_broken_crl(self):
        n = await self.connect(3, name="to-revoke")
        with open(self.crl, "w") as f:
            f.write("not a CRL\n")
        err = self.ctl("reload", expect_rc=1)
        self.assertIn("reload failed", err)
        await n.heartbeat()  # a failed reload changes nothing
        self.revoke(3, "node3-revoked")
        out = self.ctl("reload")
        self.assertIn("1 node disconnected", out)
        self.assertEqual(await n.expect_closed(), 1008)


class AdminTest(AccessCase):
    async def test_disconnect_by_vmac_and_by_uuid(self):
        a = await self.connect(0, name="a")
        b = await self.connect(1, name="b")
        c = await self.connect(2, name="c")
        out = self.ctl("disconnect", bvlc.vmac_str(a.vmac))
        self.assertIn("1 node disconnected", out)
        await a.expect_disconnect_request()
        self.ctl("disconnect", bvlc.uuid_str(b.uuid))
        await b.expect_disconnect_request()
        await c.heartbeat()  # the others are undisturbed
        err = self.ctl("disconnect", bvlc.vmac_str(bvlc.random_vmac()), expect_rc=1)
        self.assertIn("no connected node", err)
        self.ctl("disconnect", "not-a-vmac", expect_rc=2)  # refused before connecting

    async def test_deny_key_disconnects_and_keeps_out_until_removed(self):
        cert, _ = nodes.PKI.node(1)
        keyfp = key_fingerprint(cert)
        denied = await self.connect(1, name="denied")
        other = await self.connect(0, name="other")
        out = self.ctl("deny", "add", "key", keyfp, "stolen", "device")
        self.assertIn("1 node disconnected", out)
        self.assertEqual(await denied.expect_closed(), 1008)
        await self.denied_at_tls(1)
        self.assertIn(keyfp, self.ctl("deny", "list"))
        await self.restart()  # the deny list lasts
        self.assertIn(keyfp, self.ctl("deny", "list"))
        await self.denied_at_tls(1)
        self.ctl("deny", "remove", "key", keyfp)
        await self.connect(1)
        self.ctl("deny", "remove", "key", keyfp, expect_rc=1)

    async def test_status_and_metrics_show_what_deny_add_takes(self):
        n = await self.connect(3, name="shown")
        cert, _ = nodes.PKI.node(3)
        status = json.loads(http_request(self.hub.metrics_port, "/status")[2])
        row = next(r for r in status["connections"] if r["vmac"] == bvlc.vmac_str(n.vmac))
        self.assertEqual(row["certificate_sha256"], cert_fingerprint(cert))
        self.assertEqual(row["public_key_sha256"], key_fingerprint(cert))
        self.assertEqual(status["access"]["identity_binding"], "pin")
        self.assertGreaterEqual(status["access"]["pins"], 1)
        self.ctl("deny", "add", "key", row["public_key_sha256"], "shown in /status")
        self.assertEqual(await n.expect_closed(), 1008)
        status = json.loads(http_request(self.hub.metrics_port, "/status")[2])
        self.assertEqual([(d["kind"], d["value"], d["note"]) for d in status["access"]["denies"]],
                         [("key", key_fingerprint(cert), "shown in /status")])
        m = parse_metrics(http_request(self.hub.metrics_port, "/metrics")[2])
        self.assertEqual(total(m, "bschub_deny_entries"), 1)
        self.assertEqual(total(m, "bschub_nodes_closed_total", reason="denied"), 1)
        self.assertGreaterEqual(total(m, "bschub_identity_pins"), 1)

    async def test_deny_certificate_and_uuid(self):
        cert, _ = nodes.PKI.node(2)
        self.ctl("deny", "add", "certificate", cert_fingerprint(cert))
        await self.denied_at_tls(2)
        uuid = bvlc.random_uuid()
        n = await self.connect(0, uuid)
        self.ctl("deny", "add", "uuid", bvlc.uuid_str(uuid))
        self.assertEqual(await n.expect_closed(), 1008)
        details = await self.refused(0, uuid)
        self.assertIn("deny list", details)

    async def test_bad_commands_get_clear_errors_and_routing_goes_on(self):
        a = await self.connect(0, name="a")
        b = await self.connect(1, name="b")
        self.ctl("deny", "add", "key", "zz", expect_rc=2)  # checked before connecting
        self.ctl("pin", "clear", "nonsense", expect_rc=2)
        self.ctl("frobnicate", expect_rc=2)
        await nodes.exchange(a, b)


if __name__ == "__main__":
    hubproc.main()

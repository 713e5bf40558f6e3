#!/usr/bin/python3
"""Field interop suite: BACnet/SC nodes built on other TLS and WebSocket stacks connect to a
real bschub on loopback, exchange unicasts and broadcasts with a node of another stack, and
disconnect. Every client here is independent of the hub's code:

  lws     C, libwebsockets (Debian), the library BACnet Stack nodes use, with their ALPN
  java    Java 17, java.net.http WebSocket over JSSE
  node    Node.js, the `ws` package (pinned in tests/interop/node/package-lock.json)
  python  Python ssl (OpenSSL) + websockets
  openssl `openssl s_client` for the TLS matrix (ALPN, groups, signature algorithms,
          suites, certificate kinds and refusals)
  load    bschub-load

The four node programs speak one contract (tests/interop/README.md): connect, send a hello
unicast to a peer and a broadcast, answer `ping:X` with `pong:X`, leave on `bye` with
Disconnect-Request and Close 1000, and print what they receive.

Environment: BSCHUB, BSCHUB_LOAD, BSCHUB_SC_NODE_LWS (the lws client binary),
BSCHUB_WORKERS. Run with Debian's /usr/bin/python3.
"""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import websockets  # noqa: E402

from lib import bvlc, certs, hubproc, nodes  # noqa: E402
from lib.nodes import SUBPROTOCOL  # noqa: E402

IO_TIMEOUT = 5.0
# A JVM needs a second or two to start; sanitizer builds slow the hub's handshakes too.
START_TIMEOUT = 30.0

PKI = None
CERTS = {}        # name -> (cert, key) beyond PKI's: p384, rsa2048, rsa3072, rsa-hub, ...
JAVA_CLASSES = None
_tmp = None


def setUpModule():
    global PKI, JAVA_CLASSES, _tmp
    _tmp = tempfile.mkdtemp(prefix="bschub-interop-")
    PKI = nodes.setup_pki(directory=os.path.join(_tmp, "pki"))
    for kind in ("p384", "rsa2048", "rsa3072"):
        CERTS[kind] = certs.make_leaf(PKI, f"node-{kind}", kind)
    CERTS["rsa-hub"] = certs.make_leaf(PKI, "hub-rsa2048", "rsa2048", "v3_hub")
    CERTS["server-only-eku"] = certs.make_leaf(PKI, "node-server-eku", ext="v3_node_server_only")
    inter = certs.make_leaf(PKI, "intermediate-ca", ext="v3_intermediate")
    CERTS["via-intermediate"] = certs.make_leaf(PKI, "node-via-intermediate", ca=inter)
    chain = os.path.join(_tmp, "pki", "node-via-intermediate-chain.pem")
    with open(chain, "w") as out:
        for part in (CERTS["via-intermediate"][0], inter[0]):
            with open(part) as f:
                out.write(f.read())
    CERTS["via-intermediate-chain"] = chain
    JAVA_CLASSES = os.path.join(_tmp, "java")
    subprocess.run(["javac", "-d", JAVA_CLASSES, os.path.join(HERE, "java", "ScNode.java")],
                   check=True, timeout=120)


def tearDownModule():
    nodes.cleanup_pki()
    shutil.rmtree(_tmp, ignore_errors=True)


def vmac_text(b: bytes) -> str:
    return bvlc.vmac_str(b).lower()


# --- the node programs --------------------------------------------------------------------

STACKS = ["lws", "java", "node", "python"]  # also picks each one's node certificate

def stack_command(stack: str):
    if stack == "lws":
        binary = os.environ.get("BSCHUB_SC_NODE_LWS", "")
        if not os.access(binary, os.X_OK):
            raise AssertionError(f"libwebsockets client not built (BSCHUB_SC_NODE_LWS={binary!r})")
        return [binary]
    if stack == "java":
        return ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", JAVA_CLASSES,
                "ScNode"]
    if stack == "node":
        return ["node", os.path.join(HERE, "node", "sc_node.js")]
    if stack == "python":
        return ["/usr/bin/python3", os.path.join(HERE, "python", "sc_node.py")]
    raise ValueError(stack)


class NodeProgram:
    """One node program run under the contract; its stdout lines are collected."""

    def __init__(self, stack, hub, vmac, peer, name=None, cert=None, key=None, extra=(),
                 path="/"):
        self.stack, self.vmac, self.name = stack, vmac, name or stack
        cert, key = (cert, key) if cert else PKI.node(STACKS.index(stack))
        argv = stack_command(stack) + [
            "--url", f"wss://127.0.0.1:{hub.port}{path}", "--ca", PKI.ca_cert, "--cert", cert,
            "--key", key, "--vmac", vmac_text(vmac), "--peer", vmac_text(peer),
            "--name", self.name, "--timeout", "40"] + list(extra)
        # In a sanitizer build the lws node is instrumented too; the leaks of a short-lived
        # client's libraries are not what these tests are about.
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace",
                                     env=env)
        self.lines, self.err = [], []
        self._threads = [threading.Thread(target=self._pump, args=(s, sink), daemon=True)
                         for s, sink in ((self.proc.stdout, self.lines),
                                         (self.proc.stderr, self.err))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink.append(line.rstrip("\n"))

    def describe(self):
        return (f"{self.name} ({self.stack}) rc={self.proc.poll()}\n  stdout: {self.lines}\n"
                f"  stderr: {self.err[-10:]}")

    async def line(self, text, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        while text not in self.lines:
            if time.monotonic() > deadline or (self.proc.poll() is not None
                                               and not self._threads[0].is_alive()):
                raise AssertionError(f"expected line {text!r}: {self.describe()}")
            await asyncio.sleep(0.02)

    async def exit_code(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.proc.poll() is None:
            self.kill()
            raise AssertionError(f"did not exit within {timeout} s: {self.describe()}")
        for t in self._threads:
            t.join(2)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for t in self._threads:
            t.join(2)
        self.proc.stdout.close()
        self.proc.stderr.close()


# --- the probe: an in-process Python node that drives and checks the exchange -------------

class Probe:
    def __init__(self, ws, vmac):
        self.ws, self.vmac = ws, vmac

    @classmethod
    async def connect(cls, hub, vmac=None):
        vmac = vmac or bvlc.random_vmac()
        ctx = hubproc.node_tls_context(*PKI.node(0), PKI.ca_cert)
        ws = await websockets.connect(f"wss://127.0.0.1:{hub.port}/", ssl=ctx,
                                      subprotocols=[SUBPROTOCOL], open_timeout=IO_TIMEOUT)
        await ws.send(bvlc.connect_request(0x10, vmac, bvlc.random_uuid()))
        reply = bvlc.Message.decode(await asyncio.wait_for(ws.recv(), IO_TIMEOUT))
        assert reply.function == bvlc.CONNECT_ACCEPT, reply.describe()
        return cls(ws, vmac)

    async def unicast(self, dest: bytes, text: bytes):
        await self.ws.send(bvlc.npdu(0x20, dest, text))

    async def broadcast(self, text: bytes):
        await self.ws.send(bvlc.npdu(0x21, bvlc.BROADCAST_VMAC, text))

    async def expect(self, orig: bytes, text: bytes, timeout=IO_TIMEOUT):
        """Waits for an Encapsulated-NPDU from `orig` carrying `text`; other NPDUs (greetings
        of other programs) are passed over, heartbeats answered."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            try:
                raw = await asyncio.wait_for(self.ws.recv(), max(left, 0.01))
            except asyncio.TimeoutError:
                raise AssertionError(f"probe: no {text!r} from {vmac_text(orig)}; saw {seen}")
            m = bvlc.Message.decode(raw)
            if m.function == bvlc.HEARTBEAT_REQUEST:
                await self.ws.send(bvlc.heartbeat_ack(m.msg_id))
                continue
            if m.function == bvlc.ENCAPSULATED_NPDU and m.orig == orig and m.payload == text:
                return
            seen.append(m.describe())

    async def close(self):
        await self.ws.close()


# --- the suite ---------------------------------------------------------------------------

class InteropCase(hubproc.HubTestCase):
    """One hub per class with its default flags (debug log), the hub certificate
    CERTS[HUB_CERT] if set, else the suite PKI's; and the contract's exchange between one
    node program and the probe."""

    HUB_CERT = None

    @classmethod
    def make_hub(cls):
        cert, key = CERTS[cls.HUB_CERT] if cls.HUB_CERT else (None, None)
        return nodes.start_hub(cert=cert, key=key, log_level="debug")

    async def exchange(self, stack, probe=None, vmac=None, **kw):
        """The whole exchange, then the program's exit; `probe`: an already connected one."""
        own_probe = probe is None
        probe = probe or await Probe.connect(self.hub)
        vmac = vmac or bvlc.random_vmac()
        prog = NodeProgram(stack, self.hub, vmac, probe.vmac, **kw)
        try:
            await prog.line("connected", START_TIMEOUT)
            name = prog.name.encode()
            await probe.expect(vmac, b"hello from " + name)
            await probe.expect(vmac, b"broadcast from " + name)
            await probe.unicast(vmac, b"ping:u1")
            await probe.expect(vmac, b"pong:u1")
            await probe.broadcast(b"ping:b1")
            await probe.expect(vmac, b"pong:b1")
            await prog.line(f"npdu {vmac_text(probe.vmac)} ping:u1")
            await prog.line(f"npdu {vmac_text(probe.vmac)} ping:b1")
            await probe.unicast(vmac, b"bye")
            self.assertEqual(await prog.exit_code(), 0, prog.describe())
            self.assertIn("disconnected", prog.lines)
        finally:
            prog.kill()
            if own_probe:
                await probe.close()
        return prog


class StackExchangeTest(InteropCase):
    """Each stack with the default hub: the whole exchange with a Python node, and pairs of
    foreign stacks seeing each other's unicast and broadcast."""

    async def test_lws_node(self):
        since = self.hub.mark()
        await self.exchange("lws")
        # The node left by Disconnect-Request, not by a dropped connection.
        self.assertIsNotNone(await self.wait_log(r"event=node_disconnected .*Disconnect-Request",
                                                 since))

    async def test_java_node(self):
        await self.exchange("java")

    async def test_node_js_node(self):
        await self.exchange("node")

    async def test_python_node(self):
        await self.exchange("python")

    async def pair(self, first, second):
        """`first` is up before `second` starts, so it receives second's hello and broadcast
        (a unicast to a VMAC not yet connected is dropped by any hub)."""
        a, b = bvlc.random_vmac(), bvlc.random_vmac()
        probe = await Probe.connect(self.hub)
        pa = NodeProgram(first, self.hub, a, b, name=f"{first}-1")
        pb = None
        try:
            await pa.line("connected", START_TIMEOUT)
            pb = NodeProgram(second, self.hub, b, a, name=f"{second}-2")
            await pb.line("connected", START_TIMEOUT)
            await pa.line(f"npdu {vmac_text(b)} hello from {second}-2")
            await pa.line(f"npdu {vmac_text(b)} broadcast from {second}-2")
            # (first's greetings went out before second was there.) Both answer the
            # probe's pings, then leave.
            for vmac in (a, b):
                await probe.unicast(vmac, b"ping:p")
                await probe.expect(vmac, b"pong:p")
                await probe.unicast(vmac, b"bye")
            for prog in (pa, pb):
                self.assertEqual(await prog.exit_code(), 0, prog.describe())
        finally:
            for prog in (pa, pb):
                if prog:
                    prog.kill()
            await probe.close()

    async def test_pair_lws_then_java(self):
        await self.pair("lws", "java")

    async def test_pair_java_then_node_js(self):
        await self.pair("java", "node")

    async def test_pair_node_js_then_lws(self):
        await self.pair("node", "lws")

    async def test_pair_python_then_lws(self):
        await self.pair("python", "lws")


class ClientHabitTest(InteropCase):
    """Habits of real clients that the hub accepts with its default flags."""

    async def test_alpn_lists(self):
        # libwebsockets' single token, HTTP/2 only, an unknown protocol, http/1.1 among others
        for alpn in ("h2;http/1.1", "h2", "x-unknown", "h2,http/1.1"):
            with self.subTest(alpn=alpn):
                await self.exchange("node", extra=["--alpn", alpn])
                await self.exchange("python", extra=["--alpn", alpn])

    async def test_certificate_kinds(self):
        for kind in ("p384", "rsa2048", "rsa3072"):
            for stack in STACKS:
                with self.subTest(kind=kind, stack=stack):
                    await self.exchange(stack, cert=CERTS[kind][0], key=CERTS[kind][1])

    async def test_intermediate_ca_with_chain_accepted(self):
        # On purpose: a node certificate issued by an intermediate CA under the configured
        # CA is accepted when the node sends the intermediate (ordinary path validation to
        # the configured trust anchor). Without it, see OpensslMatrixTest.
        cert, key = CERTS["via-intermediate"]
        await self.exchange("python", cert=cert, key=key,
                            extra=["--chain", CERTS["via-intermediate-chain"]])

    async def test_request_paths(self):
        # libwebsockets 4.1 (so BACnet Stack's nodes) sends the path of wss://host/hub/x as
        # "GET hub/x": the hub serves it like "/hub/x".
        for path in ("/hub", "/bacnet/sc?x=1", "//"):
            for stack in ("node", "lws"):
                with self.subTest(path=path, stack=stack):
                    await self.exchange(stack, path=path)

    async def test_two_subprotocols_offered(self):
        await self.exchange("python", extra=["--subprotocols",
                                             "dc.bsc.bacnet.org," + SUBPROTOCOL])

    async def test_permessage_deflate_offered(self):
        await self.exchange("python")  # websockets offers permessage-deflate by default
        await self.exchange("node", extra=["--perMessageDeflate"])

    async def test_connect_request_split_over_frames(self):
        await self.exchange("python", extra=["--split-connect", "--no-deflate"])

    async def test_lower_case_headers(self):
        ctx = hubproc.node_tls_context(*PKI.node(1), PKI.ca_cert)

        async def answer_to(method: bytes):
            """The head of the hub's answer to an upgrade request with lower-case header
            names (and values) and this method."""
            reader, writer = await asyncio.open_connection("127.0.0.1", self.hub.port, ssl=ctx)
            try:
                writer.write(method + b" / HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                             b"upgrade: websocket\r\nconnection: upgrade\r\n"
                             b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             b"sec-websocket-version: 13\r\nsec-websocket-protocol: "
                             + SUBPROTOCOL.encode() + b"\r\n\r\n")
                return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
            finally:
                writer.close()

        # Method names are case-sensitive (RFC 9110 9.1): a lower-case method is refused;
        # header names are not, which the next request shows.
        head = await answer_to(b"get")
        self.assertTrue(head.startswith(b"HTTP/1.1 4"), head)
        head = await answer_to(b"GET")
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        self.assertIn(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head)  # RFC 6455 1.3's example


class RsaHubTest(InteropCase):
    """A hub whose own certificate is RSA 2048 (signing rsa_pss_rsae_*), with every stack."""

    HUB_CERT = "rsa-hub"

    async def test_every_stack(self):
        probe = await Probe.connect(self.hub)
        try:
            for stack in STACKS:
                with self.subTest(stack=stack):
                    await self.exchange(stack, probe)
        finally:
            await probe.close()


def s_client(hub, *args, cert=None, key=None, send=b""):
    """One `openssl s_client` handshake against the hub; its whole output."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{hub.port}", "-tls1_3",
            "-CAfile", PKI.ca_cert, "-no_ign_eof"]
    if cert:
        argv += ["-cert", cert, "-key", key]
    argv += list(args)
    # The pause before EOF lets a refusal sent after the handshake arrive before s_client
    # quits on end of input.
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        time.sleep(0.6)
        out, _ = proc.communicate(send, timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


class OpensslMatrixTest(InteropCase):
    """openssl s_client against the default hub: what completes, and what each refusal
    looks like to the node (the TLS alert) and to the operator (the log reason)."""

    def node(self):
        return dict(zip(("cert", "key"), PKI.node(2)))

    def assert_ok(self, out, what):
        self.assertRegex(out, r"Cipher is TLS_", f"{what}:\n{out}")
        self.assertNotIn("alert", out, f"{what}:\n{out}")

    async def refused(self, args, alert, reason, **cert):
        since = self.hub.mark()
        out = await asyncio.to_thread(s_client, self.hub, *args, **cert)
        self.assertRegex(out, rf"alert {alert}", f"{args}:\n{out}")
        line = await self.wait_log(r"event=tls_handshake_failed", since)
        self.assertIsNotNone(line, f"{args}: no log line")
        self.assertRegex(line, reason)
        self.assertNotIn("New Session Ticket", out, "a refused node got a session ticket")

    async def test_alpn(self):
        for alpn, selected in (("h2", None), ("h2;http/1.1", None), ("x-unknown", None),
                               ("h2,http/1.1", "http/1.1"), ("http/1.1", "http/1.1")):
            with self.subTest(alpn=alpn):
                out = await asyncio.to_thread(s_client, self.hub, "-alpn", alpn, **self.node())
                self.assert_ok(out, alpn)
                if selected:
                    self.assertIn(f"ALPN protocol: {selected}", out)
                else:
                    self.assertIn("No ALPN negotiated", out)

    async def test_every_default_group(self):
        for group, shown in (("prime256v1", "prime256v1"), ("X25519", "X25519"),
                             ("secp384r1", "secp384r1"), ("X448", "X448"),
                             ("secp521r1", "secp521r1"), ("ffdhe2048", "DH, 2048"),
                             ("ffdhe3072", "DH, 3072")):
            with self.subTest(group=group):
                out = await asyncio.to_thread(s_client, self.hub, "-groups", group,
                                              **self.node())
                self.assert_ok(out, group)
                self.assertRegex(out, rf"Server Temp Key: .*{shown}")

    async def test_group_outside_the_default_refused_with_reason(self):
        await self.refused(["-groups", "ffdhe4096"], "handshake failure",
                           r'reason="no key exchange group in common \(client offers '
                           r'ffdhe4096; hub allows secp256r1,', **self.node())

    async def test_suites(self):
        for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                      "TLS_CHACHA20_POLY1305_SHA256"):
            with self.subTest(suite=suite):
                out = await asyncio.to_thread(s_client, self.hub, "-ciphersuites", suite,
                                              **self.node())
                self.assertIn(f"Cipher is {suite}", out)
        await self.refused(["-ciphersuites", "TLS_AES_128_CCM_SHA256"], "handshake failure",
                           r'reason="no cipher suite in common', **self.node())

    async def test_signature_algorithms(self):
        out = await asyncio.to_thread(s_client, self.hub, "-sigalgs",
                                      "ecdsa_secp256r1_sha256", **self.node())
        self.assert_ok(out, "ecdsa_secp256r1_sha256")
        # The hub's P-256 key cannot sign RSA-PSS.
        await self.refused(["-sigalgs", "rsa_pss_rsae_sha256"], "handshake failure",
                           r'reason="no signature algorithm in common .*0x0804.*0x0403',
                           **self.node())

    async def test_certificate_refusals_name_the_reason(self):
        cases = [
            ("foreign CA", (PKI.foreign_node_cert, PKI.foreign_node_key), "unknown ca",
             r"not correctly signed by the trusted CA"),
            ("expired", (PKI.expired_node_cert, PKI.expired_node_key), "certificate expired",
             r"validity has expired"),
            ("not yet valid", (PKI.future_node_cert, PKI.future_node_key), "bad certificate",
             r"validity starts in the future"),
            ("no clientAuth EKU", CERTS["server-only-eku"], "unsupported certificate",
             r"extendedKeyUsage"),
            ("intermediate not sent", CERTS["via-intermediate"], "unknown ca",
             r"not correctly signed by the trusted CA"),
            ("no certificate", (None, None), "certificate required",
             r'reason="no client certificate"'),
        ]
        for label, (cert, key), alert, reason in cases:
            with self.subTest(case=label):
                await self.refused([], alert, reason, cert=cert, key=key)

    async def test_rsa_and_p384_node_certificates(self):
        for kind in ("p384", "rsa2048", "rsa3072"):
            with self.subTest(kind=kind):
                out = await asyncio.to_thread(s_client, self.hub, cert=CERTS[kind][0],
                                              key=CERTS[kind][1])
                self.assert_ok(out, kind)


class LoadToolTest(InteropCase):
    """bschub-load's nodes (the hub's own TLS and WebSocket code) through the same hub."""

    async def test_echo_run(self):
        load = os.environ.get("BSCHUB_LOAD") or os.path.join(REPO, "build", "bschub-load")
        cert, key = PKI.node(3)
        proc = await asyncio.to_thread(
            subprocess.run,
            [load, "--uri", f"wss://127.0.0.1:{self.hub.port}", "--ca", PKI.ca_cert,
             "--cert", cert, "--key", key, "--mode", "echo", "--nodes", "4",
             "--duration", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout)


if __name__ == "__main__":
    hubproc.main()

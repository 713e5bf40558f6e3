"""The hub under test and its BACnet/SC nodes, shared by every hub-backed suite.

- The hub's identity (HUB_VMAC, HUB_UUID, HUB_MAX_BVLC, HUB_MAX_NPDU) and what the nodes
  use with it: SUBPROTOCOL, NPDU (the ReadProperty of Std Fig. AB-5), timeouts.
- The suite's PKI: setup_pki() in a test module's setUpModule() makes it (PKI), and
  cleanup_pki() in tearDownModule() removes it. The helpers below take their certificates
  from there.
- start_hub(): the one way a suite starts a hub (this PKI, this identity, loopback).
- Nodes on Debian's websockets (one asyncio connection each): open_ws, Node, connect_node,
  connect_when_free, the NAK checks, exchange(); HubTestCase, one hub per TestCase class.
- A node on one blocking TLS socket of our own (bsc_connect / bsc_close), for what
  websockets does not let a client do: offer a TLS session, bind a source address, write
  many frames per send.

Everything is on 127.0.0.1 and every network wait is bounded.
"""

import asyncio
import base64
import os
import socket
import ssl
import struct
import subprocess
import tempfile
import time

import websockets.client
import websockets.exceptions

from lib import bvlc, certs, hubproc, wsframe

SUBPROTOCOL = "hub.bsc.bacnet.org"
DC_SUBPROTOCOL = "dc.bsc.bacnet.org"

HUB_VMAC = bvlc.vmac("92:7B:F7:1A:96:A2")
HUB_UUID = bytes.fromhex("FFEEDDCCBBAA99887766554433221100")
HUB_MAX_BVLC = 6000
HUB_MAX_NPDU = 1497

NPDU = bytes.fromhex("01040000010C0C000000051955")  # ReadProperty of Std Fig. AB-5

IO_TIMEOUT = 3.0      # any single expected network event
OPEN_TIMEOUT = 5.0    # TCP + TLS + HTTP upgrade
QUIET = 0.3           # "nothing arrives" window
FREE_RETRY = 2.0      # how long a VMAC may take to be freed after an abrupt TCP close
SOCKET_TIMEOUT = 5.0  # one operation on a blocking socket (bsc_connect and the like)

PKI = None            # certs.Pki of the running test module, made by setup_pki()


def setup_pki(n_nodes=4, directory=None):
    """Makes the suite's PKI (in a fresh temporary directory unless `directory` is given),
    sets PKI and returns it. For a test module's setUpModule()."""
    global PKI
    PKI = certs.make_pki(directory or tempfile.mkdtemp(prefix="bschub-it-pki-"),
                         n_nodes=n_nodes)
    return PKI


def cleanup_pki():
    """Removes the suite's PKI. For a test module's tearDownModule()."""
    global PKI
    if PKI is not None:
        PKI.cleanup()
        PKI = None


def accept_bytes(msg_id):
    """The hub's exact Connect-Accept for a Connect-Request with this message ID."""
    return bvlc.connect_accept(msg_id, HUB_VMAC, HUB_UUID, HUB_MAX_BVLC, HUB_MAX_NPDU)


def start_hub(*extra_args, tls=True, cert=None, key=None, ca=None, log_level=None,
              metrics=False, timeout=10.0, port=0):
    """bschub on 127.0.0.1:0 with the suite PKI's hub certificate and CA (unless cert, key
    or ca say otherwise), identity HUB_VMAC / HUB_UUID, log level `log_level` (default:
    BSCHUB_LOG_LEVEL, else debug), --metrics on an ephemeral port with metrics=True, and
    `extra_args` last; `port` instead of an ephemeral one if given. Returns the started
    hubproc.HubProcess."""
    return hubproc.HubProcess(
        hubproc.find_binary(), cert or PKI.hub_cert, key or PKI.hub_key, ca or PKI.ca_cert,
        vmac=bvlc.vmac_str(HUB_VMAC), uuid=bvlc.uuid_str(HUB_UUID), tls=tls,
        log_level=log_level or os.environ.get("BSCHUB_LOG_LEVEL", "debug"),
        extra_args=extra_args, metrics=metrics, port=port).start(timeout=timeout)


def assert_refused_at_start(test, args, *words, timeout=20):
    """bschub with the suite's hub files and `args` must exit at once with status 2 and one
    line on stderr that contains each of `words`."""
    p = subprocess.run([hubproc.find_binary(), "--listen", "127.0.0.1:0", "--cert",
                        PKI.hub_cert, "--key", PKI.hub_key, "--ca", PKI.ca_cert, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    test.assertEqual(p.returncode, 2, p.stderr)
    for w in words:
        test.assertIn(w, p.stderr)
    test.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


# --- TLS contexts -----------------------------------------------------------------------

def client_ctx(cert=None, key=None, ca=None, max_version=None):
    """A client context that checks the hub's certificate (SAN IP:127.0.0.1) against `ca`
    (default: the suite CA) and presents `cert` if given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = True
    ctx.load_verify_locations(ca or PKI.ca_cert)
    if cert:
        ctx.load_cert_chain(cert, key)
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def node_ctx(index=0):
    """client_ctx with node certificate number `index` of the suite PKI."""
    cert, key = PKI.node(index)
    return client_ctx(cert, key)


# --- nodes on websockets ----------------------------------------------------------------

async def tcp_connect(hub, source=None, timeout=IO_TIMEOUT):
    """A non-blocking TCP socket connected to the hub, bound to address `source` first if
    given (another 127.0.0.x changes the 4-tuple hash). Closed again if the connect fails.
    Its local port is what the hub logs as peer=...:PORT."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        if source is not None:
            sock.bind((source, 0))
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, hub.address),
                               timeout)
    except BaseException:
        sock.close()
        raise
    return sock


async def open_ws(hub, ctx=None, subprotocols=(SUBPROTOCOL,), info=None, source=None):
    """TCP connect ourselves (to learn the local port), then TLS (ctx, default node_ctx())
    + WebSocket upgrade. Returns (ws, local port); raises whatever the handshake raises.
    info, a dict, gets "lport" as soon as it is known."""
    sock = await tcp_connect(hub, source)
    lport = sock.getsockname()[1]
    if info is not None:
        info["lport"] = lport
    kwargs = dict(sock=sock, max_size=None, open_timeout=OPEN_TIMEOUT, close_timeout=2,
                  compression=None, ping_interval=None,
                  subprotocols=list(subprotocols) if subprotocols is not None else None)
    if hub.tls:
        kwargs.update(ssl=ctx if ctx is not None else node_ctx(), server_hostname="127.0.0.1")
    try:
        ws = await asyncio.wait_for(websockets.client.connect(hub.uri, **kwargs),
                                    OPEN_TIMEOUT + 1)
    except BaseException:
        sock.close()   # no-op if the transport already owns and closed it
        raise
    return ws, lport


class Node:
    """One BACnet/SC node connection (after Connect-Accept)."""

    def __init__(self, ws, vmac, uuid, lport, name="node"):
        self.ws, self.vmac, self.uuid, self.lport, self.name = ws, vmac, uuid, lport, name

    def __repr__(self):
        return f"<{self.name} {bvlc.vmac_str(self.vmac)} port {self.lport}>"

    async def send(self, data: bytes):
        await asyncio.wait_for(self.ws.send(bytes(data)), IO_TIMEOUT)

    async def recv(self, timeout=IO_TIMEOUT, what="a message") -> bytes:
        try:
            msg = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self}: expected {what} within {timeout} s, got nothing")
        except websockets.exceptions.ConnectionClosed as exc:
            raise AssertionError(f"{self}: expected {what}, but the connection closed ({exc})")
        if not isinstance(msg, bytes):
            raise AssertionError(f"{self}: received a text frame: {msg!r}")
        return msg

    async def expect(self, expected: bytes, what="message"):
        got = await self.recv(what=f"{what} {bvlc.describe(expected)}")
        if got != expected:
            raise AssertionError(f"{self}: wrong {what}\n  expected {bvlc.describe(expected)}"
                                 f"\n  got      {bvlc.describe(got)}")
        return got

    async def assert_silent(self, timeout=QUIET, what="nothing"):
        try:
            msg = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            return
        except websockets.exceptions.ConnectionClosed as exc:
            raise AssertionError(f"{self}: expected {what}, but the connection closed ({exc})")
        shown = bvlc.describe(msg) if isinstance(msg, bytes) else repr(msg)
        raise AssertionError(f"{self}: expected {what}, but received {shown}")

    async def expect_closed(self, timeout=IO_TIMEOUT, allow_disconnect_request=False):
        """Wait until the hub closes the connection; returns the close code received
        (None if the TCP connection ended without a Close frame). Any data message
        before that is a failure, except that a Disconnect-Request can be answered."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self}: hub did not close the connection within "
                                     f"{timeout} s")
            try:
                msg = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                continue
            except websockets.exceptions.ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd is not None else None
            if (allow_disconnect_request and isinstance(msg, bytes) and len(msg) == 4
                    and msg[0] == bvlc.DISCONNECT_REQUEST):
                await self.ws.send(bvlc.disconnect_ack(int.from_bytes(msg[2:4], "big")))
                continue
            shown = bvlc.describe(msg) if isinstance(msg, bytes) else repr(msg)
            raise AssertionError(f"{self}: expected the connection to close, got {shown}")

    async def expect_disconnect_request(self, what="Disconnect-Request"):
        """The next message must be the hub's Disconnect-Request (no O, D or payload); it is
        acknowledged, and then the hub must close the connection."""
        got = await self.recv(what=what)
        m = bvlc.Message.decode(got)
        if (m.function, m.flags, m.payload) != (bvlc.DISCONNECT_REQUEST, 0, b""):
            raise AssertionError(f"{self}: expected {what}, got {bvlc.describe(got)}")
        await self.send(bvlc.disconnect_ack(m.msg_id))
        await self.expect_closed()

    async def heartbeat(self, msg_id=0x7777):
        await self.send(bvlc.heartbeat_request(msg_id))
        await self.expect(bvlc.heartbeat_ack(msg_id), "Heartbeat-ACK")

    def abort(self):
        """Drop TCP: no WebSocket Close frame, no TLS close_notify."""
        self.ws.transport.abort()

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 3.0)
        except Exception:
            try:
                self.ws.transport.abort()
            except Exception:
                pass


def nak_prefix(msg_id, fn, code, marker=0, error_class=bvlc.ERROR_CLASS_COMMUNICATION):
    """The fixed 11 octets of a NAK sent by the hub on the node's own connection (no O, no D)."""
    return (bytes([bvlc.RESULT, 0x00]) + msg_id.to_bytes(2, "big")
            + bytes([fn, bvlc.RESULT_NAK, marker]) + error_class.to_bytes(2, "big")
            + code.to_bytes(2, "big"))


def nak_mismatch(got, msg_id, fn, code, marker=0):
    """None if `got` is that NAK (the optional Error Details must be UTF-8 without NUL),
    else a description of the difference."""
    prefix = nak_prefix(msg_id, fn, code, marker)
    if got[:len(prefix)] != prefix:
        return (f"expected NAK {prefix.hex()} [+ UTF-8 details], got {bvlc.describe(got)}")
    details = got[len(prefix):]
    try:
        details.decode("utf-8")
    except UnicodeDecodeError:
        return f"NAK Error Details are not UTF-8: {details!r}"
    if b"\x00" in details:
        return f"NAK Error Details contain NUL: {details!r}"
    return None


async def expect_nak(node, msg_id, fn, code, marker=0, what="NAK"):
    got = await node.recv(what=f"{what} {nak_prefix(msg_id, fn, code, marker).hex()}")
    problem = nak_mismatch(got, msg_id, fn, code, marker)
    if problem:
        raise AssertionError(f"{node}: {what}: {problem}")
    return got


async def handshake(hub, vmac, uuid, msg_id, ctx):
    """open_ws, then a Connect-Request; the answer is left unread. Returns (ws, lport)."""
    ws, lport = await open_ws(hub, ctx)
    await asyncio.wait_for(ws.send(bvlc.connect_request(msg_id, vmac, uuid)), IO_TIMEOUT)
    return ws, lport


async def connect_node(hub, vmac=None, uuid=None, msg_id=None, cert_index=0,
                       subprotocols=(SUBPROTOCOL,), name="node", ctx=None, max_bvlc=1600):
    """Open a session and check the Connect-Accept byte for byte. ctx: the TLS context
    (default: node certificate `cert_index`); max_bvlc: what the node announces (the hub
    forwards nothing larger to it)."""
    vmac = vmac or bvlc.random_vmac()
    uuid = uuid or bvlc.random_uuid()
    msg_id = int.from_bytes(os.urandom(2), "big") if msg_id is None else msg_id
    if hub.tls and ctx is None:
        ctx = node_ctx(cert_index)
    ws, lport = await open_ws(hub, ctx, subprotocols)
    node = Node(ws, vmac, uuid, lport, name)
    if ws.subprotocol != SUBPROTOCOL:
        await node.close()
        raise AssertionError(f"hub accepted the upgrade with subprotocol {ws.subprotocol!r}, "
                             f"expected {SUBPROTOCOL!r}")
    await node.send(bvlc.connect_request(msg_id, vmac, uuid, max_bvlc))
    try:
        await node.expect(accept_bytes(msg_id), "Connect-Accept")
    except BaseException:
        await node.close()
        raise
    return node


async def connect_when_free(hub, vmac, uuid, within=FREE_RETRY, cert_index=0, name="node"):
    """Connect with (vmac, uuid), retrying while the hub still NAKs the VMAC as duplicate."""
    deadline = time.monotonic() + within
    attempts = 0
    while True:
        attempts += 1
        msg_id = 0x5000 + attempts
        ws, lport = await handshake(hub, vmac, uuid, msg_id, node_ctx(cert_index))
        node = Node(ws, vmac, uuid, lport, name)
        got = await node.recv(what="Connect-Accept or NAK")
        if got == accept_bytes(msg_id):
            return node, attempts
        await node.close()
        if nak_mismatch(got, msg_id, bvlc.CONNECT_REQUEST, bvlc.NODE_DUPLICATE_VMAC):
            raise AssertionError(f"unexpected answer to Connect-Request: {bvlc.describe(got)}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"VMAC {bvlc.vmac_str(vmac)} still refused as duplicate "
                                 f"after {within} s ({attempts} attempts)")
        await asyncio.sleep(0.1)


async def exchange(x, y, msg_id=0x7E00):
    """Two nodes (bystanders of a test) still reach each other, both ways, byte-exact."""
    for a, b in ((x, y), (y, x)):
        raw = bvlc.npdu(msg_id, b.vmac, NPDU)
        await a.send(raw)
        await b.expect(bvlc.hub_unicast_rewrite(raw, a.vmac), "bystander unicast")
        msg_id += 1


class HubTestCase(hubproc.HubTestCase):
    """One hub per class (start_hub(*HUB_ARGS, tls=TLS)); nodes opened through self.node()
    are closed after each test."""

    TLS = True
    HUB_ARGS = ()

    @classmethod
    def make_hub(cls):
        return start_hub(*cls.HUB_ARGS, tls=cls.TLS)

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.nodes = []

    async def asyncTearDown(self):
        await asyncio.gather(*(n.close() for n in self.nodes), return_exceptions=True)

    async def node(self, **kw):
        """connect_node() with the next node certificate; closed after the test."""
        kw.setdefault("cert_index", len(self.nodes))
        kw.setdefault("name", f"node{len(self.nodes)}")
        n = await connect_node(self.hub, **kw)
        self.nodes.append(n)
        return n

    async def nodes_n(self, count):
        return [await self.node() for _ in range(count)]


# --- a node on one blocking TLS socket ---------------------------------------------------

def read_exact(sock, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("hub closed the connection")
        buf += chunk
    return buf


def read_ws_message(sock) -> bytes:
    """The payload of the hub's next (unmasked, unfragmented) frame."""
    _, b1 = read_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(sock, 8))[0]
    return read_exact(sock, n)


def refused_alert(port: int, cert: str, key: str, ca=None):
    """TLS with `cert` (the hub checked against `ca`, default the suite CA), then the upgrade
    request: returns the ssl.SSLError the node gets (TLS 1.3: the client's handshake
    completes before the hub's verdict arrives), or None if the hub answered."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
    try:
        with client_ctx(cert, key, ca).wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(wsframe.upgrade_request(host=f"127.0.0.1:{port}"))
            got = s.recv(64)
            return None if got else ConnectionError("closed without an alert")
    except ssl.SSLError as exc:
        return exc
    finally:
        raw.close()


def bsc_connect(port: int, ctx: ssl.SSLContext, session=None, source: str = "127.0.0.1",
                vmac=None, timeout=SOCKET_TIMEOUT):
    """TCP from `source` + TLS (offering `session`) + upgrade + Connect-Request (VMAC `vmac`,
    default random); checks the Connect-Accept byte for byte. Returns the blocking socket,
    its timeout `timeout`."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                   source_address=(source, 0))
    sock = ctx.wrap_socket(raw, session=session, server_hostname="127.0.0.1")
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(wsframe.upgrade_request(key, host=f"127.0.0.1:{port}"))
    head = b""
    while b"\r\n\r\n" not in head:
        head += read_exact(sock, 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"upgrade refused: {head[:40]!r}")
    sock.sendall(wsframe.ws_frame(wsframe.BINARY, bvlc.connect_request(
        1, vmac or bvlc.random_vmac(), bvlc.random_uuid())))
    reply = read_ws_message(sock)
    if reply != accept_bytes(1):
        raise ConnectionError("no Connect-Accept: " + bvlc.describe(reply))
    return sock


def bsc_close(sock) -> None:
    """Disconnect-Request, read the Disconnect-ACK, close."""
    sock.sendall(wsframe.ws_frame(wsframe.BINARY, bvlc.disconnect_request(2)))
    try:
        read_ws_message(sock)  # Disconnect-ACK
    finally:
        sock.close()

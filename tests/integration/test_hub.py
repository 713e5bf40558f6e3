#!/usr/bin/python3
"""Independent-client integration tests for the bschub BACnet/SC hub.

Run with Debian's Python (it has websockets 10.4):

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_hub.py [-v] [Class.test]
    /usr/bin/python3 tests/integration/test_hub.py build/bschub [-v]

Without BSCHUB or a path argument, <repo>/build/bschub is used.
Optional env: BSCHUB_LOG_LEVEL (default debug), BSCHUB_TEST_SHOW_LOGS=1 (print each hub's
stderr when its class finishes).

Uses only the standard library + websockets + the test library in lib/ (nodes.py: the
hub under test and its nodes, bvlc.py: own BVLC-SC codec, certs.py: openssl-made PKI,
hubproc.py: process control). One hub process per TestCase class. Everything is on
127.0.0.1 and every network wait is bounded by asyncio.wait_for.
"""

import asyncio
import os
import signal
import ssl
import time
import unittest

import websockets.exceptions

from lib import bvlc, hubproc, nodes
from lib.bvlc import BROADCAST_VMAC, HeaderOption, Message
from lib.nodes import (DC_SUBPROTOCOL, FREE_RETRY, HUB_MAX_NPDU, HUB_UUID, HUB_VMAC,
                       IO_TIMEOUT, NPDU, OPEN_TIMEOUT, SUBPROTOCOL, HubTestCase, Node,
                       accept_bytes, client_ctx, connect_node, connect_when_free, expect_nak,
                       handshake, node_ctx, open_ws, start_hub)

PKI = None            # the suite PKI (lib.nodes), made in setUpModule


def setUpModule():
    global PKI
    PKI = nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


# --- session set-up ---------------------------------------------------------------------

class ConnectTest(HubTestCase):

    async def test_connect_accept_exact_bytes(self):
        for mid in (0x0000, 0x0001, 0xBEEF, 0xFFFF):
            with self.subTest(msg_id=mid):
                vm, uu = bvlc.random_vmac(), bvlc.random_uuid()
                ws, lport = await open_ws(self.hub, node_ctx(mid))
                n = Node(ws, vm, uu, lport)
                self.nodes.append(n)
                self.assertEqual(ws.subprotocol, SUBPROTOCOL)
                self.assertEqual(ws.response_headers.get("Sec-WebSocket-Protocol"), SUBPROTOCOL)
                self.assertEqual(ws.transport.get_extra_info("ssl_object").version(), "TLSv1.3")
                await n.send(bvlc.connect_request(mid, vm, uu, 1600, 1497))
                got = await n.recv(what="Connect-Accept")
                expected = (bytes([0x07, 0x00]) + mid.to_bytes(2, "big") + HUB_VMAC + HUB_UUID
                            + bytes.fromhex("1770 05D9"))
                self.assertEqual(got, expected, f"Connect-Accept: got {bvlc.describe(got)}")
                p = bvlc.ConnectPayload.decode(Message.decode(got).payload)
                self.assertEqual((p.vmac, p.uuid, p.max_bvlc, p.max_npdu),
                                 (HUB_VMAC, HUB_UUID, 6000, 1497))
                await n.heartbeat()

    async def test_subprotocol_chosen_from_list(self):
        # RFC 6455: Sec-WebSocket-Protocol is a list; the hub must pick hub.bsc.bacnet.org.
        n = await self.node(subprotocols=(DC_SUBPROTOCOL, SUBPROTOCOL))
        self.assertEqual(n.ws.subprotocol, SUBPROTOCOL)
        await n.heartbeat()

    async def test_many_nodes_connect(self):
        ns = await self.nodes_n(8)
        await asyncio.gather(*(n.heartbeat(0x1000 + i) for i, n in enumerate(ns)))


# --- routing ----------------------------------------------------------------------------

class UnicastTest(HubTestCase):

    async def test_unicast_standard_form(self):
        a, b, c = await self.nodes_n(3)
        raw = bvlc.npdu(0xB5EC, b.vmac, NPDU)                 # D only, like V9
        await a.send(raw)
        expected = bytes.fromhex("0108B5EC") + a.vmac + NPDU  # like V10
        self.assertEqual(expected, bvlc.hub_unicast_rewrite(raw, a.vmac))
        await b.expect(expected, "unicast")
        await self.all_silent(a, c)
        # and the other way round
        raw = bvlc.npdu(0x0102, a.vmac, NPDU[::-1])
        await b.send(raw)
        await a.expect(bytes.fromhex("01080102") + b.vmac + NPDU[::-1], "unicast")
        await self.all_silent(b, c)

    async def test_unicast_bacpy_form_origin_equals_sender(self):
        a, b, c = await self.nodes_n(3)
        raw = bvlc.npdu(0, b.vmac, NPDU, orig=a.vmac)         # O+D, like V11
        self.assertEqual(raw[1], 0x0C)
        await a.send(raw)
        await b.expect(bytes.fromhex("01080000") + a.vmac + NPDU, "unicast")  # like V12
        await self.all_silent(a, c)

    async def test_unicast_options_passed_through(self):
        a, b, c = await self.nodes_n(3)
        msgs = [
            # V15: Secure Path data option
            bvlc.npdu(0x0020, b.vmac, NPDU, data_options=[HeaderOption.secure_path()]),
            # V17: proprietary dest option + Secure Path
            bvlc.npdu(0x0030, b.vmac, NPDU,
                      dest_options=[HeaderOption.proprietary(555, 1, bytes.fromhex("C0FFEE"))],
                      data_options=[HeaderOption.secure_path()]),
            # Fig. AB-5 shape: two proprietary dest options, Secure Path marker 0x01
            bytes.fromhex("0107B5EC") + b.vmac
            + bytes.fromhex("BF0007022BBAC5ECC0993F0003030939") + b"\x01" + NPDU,
            # 2024 option types (unknown to old stacks) must pass through untouched
            bvlc.npdu(0x0031, b.vmac, NPDU,
                      data_options=[HeaderOption(0x23, b"\x00\x30\x39"),      # Identity
                                    HeaderOption(0x41)]),
            # O+D with options
            bvlc.npdu(0x0032, b.vmac, NPDU, orig=a.vmac,
                      dest_options=[HeaderOption.proprietary(555, 2, b"\x01\x02")],
                      data_options=[HeaderOption.secure_path()]),
        ]
        for raw in msgs:
            with self.subTest(msg=raw.hex()):
                await a.send(raw)
                await b.expect(bvlc.hub_unicast_rewrite(raw, a.vmac), "unicast with options")
        await self.all_silent(a, c)

    async def test_unicast_other_functions(self):
        a, b, c = await self.nodes_n(3)
        adv = bytes([1, 0]) + (1600).to_bytes(2, "big") + (1497).to_bytes(2, "big")
        msgs = [
            Message(bvlc.ADVERTISEMENT_SOLICITATION, 0x0040, dest=b.vmac).encode(),   # V19
            Message(bvlc.ADVERTISEMENT, 0x0041, dest=b.vmac, payload=adv).encode(),   # V20
            Message(bvlc.ADDRESS_RESOLUTION, 0x0050, dest=b.vmac).encode(),           # V21
            Message(bvlc.ADDRESS_RESOLUTION_ACK, 0x0050, dest=b.vmac,
                    payload=b"wss://10.0.0.5:4443").encode(),                        # V22
            Message(bvlc.ADDRESS_RESOLUTION_ACK, 0x0051, dest=b.vmac).encode(),       # empty
            bvlc.proprietary(0x0060, b.vmac, 555, 7, bytes.fromhex("AABB")),          # V23
            bvlc.nak(0x0031, bvlc.ENCAPSULATED_NPDU, bvlc.HEADER_NOT_UNDERSTOOD,
                     error_marker=0x7F, dest=b.vmac),                                 # V25
            Message(bvlc.RESULT, 0x0061, dest=b.vmac,
                    payload=bytes([bvlc.PROPRIETARY_MESSAGE, 0])).encode(),           # ACK
        ]
        for raw in msgs:
            with self.subTest(msg=bvlc.describe(raw)):
                await a.send(raw)
                await b.expect(bvlc.hub_unicast_rewrite(raw, a.vmac), "forwarded message")
        await self.all_silent(a, c)

    async def test_unicast_max_npdu(self):
        a, b = await self.nodes_n(2)
        data = bytes([0x01, 0x00]) + os.urandom(HUB_MAX_NPDU - 2)
        raw = bvlc.npdu(0x0ABC, b.vmac, data)
        await a.send(raw)
        await b.expect(bytes.fromhex("01080ABC") + a.vmac + data, "1497-octet NPDU")
        await a.assert_silent()

    async def test_unicast_to_self_not_echoed(self):
        a, b = await self.nodes_n(2)
        await a.send(bvlc.npdu(0x0101, a.vmac, NPDU))
        await self.all_silent(a, b)
        await a.heartbeat()

    async def test_unknown_destination_dropped_silently(self):
        a, b, c = await self.nodes_n(3)
        await a.send(bvlc.npdu(0x0202, bvlc.random_vmac(), NPDU))
        await a.send(bvlc.npdu(0x0203, bvlc.random_vmac(), NPDU, orig=a.vmac))
        await a.send(Message(bvlc.ADDRESS_RESOLUTION, 0x0204, dest=bvlc.random_vmac()).encode())
        await self.all_silent(a, b, c)   # no NAK to a, nothing to the others
        await a.heartbeat()
        await a.send(bvlc.npdu(0x0205, b.vmac, NPDU))
        await b.expect(bytes.fromhex("01080205") + a.vmac + NPDU, "unicast after drop")

    async def test_spoofed_origin_unicast_dropped(self):
        a, b, c = await self.nodes_n(3)
        await a.send(bvlc.npdu(0x0303, b.vmac, NPDU, orig=c.vmac))        # claims to be c
        await a.send(bvlc.npdu(0x0304, b.vmac, NPDU, orig=bvlc.random_vmac()))
        await self.all_silent(a, b, c)
        await a.heartbeat()
        await a.send(bvlc.npdu(0x0305, b.vmac, NPDU))
        await b.expect(bytes.fromhex("01080305") + a.vmac + NPDU, "unicast after spoof")


class BroadcastTest(HubTestCase):

    async def test_broadcast_standard_form(self):
        a, b, c, d = await self.nodes_n(4)
        raw = bvlc.npdu(0x0010, BROADCAST_VMAC, NPDU)                         # V13
        await a.send(raw)
        expected = bytes.fromhex("010C0010") + a.vmac + BROADCAST_VMAC + NPDU  # V14
        self.assertEqual(expected, bvlc.hub_broadcast_rewrite(raw, a.vmac))
        await asyncio.gather(*(n.expect(expected, "broadcast") for n in (b, c, d)))
        await a.assert_silent(what="no echo of its own broadcast")
        await self.all_silent(b, c, d, what="exactly one copy")

    async def test_broadcast_bacpy_form(self):
        a, b, c = await self.nodes_n(3)
        raw = bvlc.npdu(0, BROADCAST_VMAC, NPDU, orig=a.vmac)
        await a.send(raw)
        expected = bytes.fromhex("010C0000") + a.vmac + BROADCAST_VMAC + NPDU
        await asyncio.gather(b.expect(expected, "broadcast"), c.expect(expected, "broadcast"))
        await a.assert_silent(what="no echo of its own broadcast")

    async def test_broadcast_with_options_and_proprietary(self):
        a, b, c = await self.nodes_n(3)
        msgs = [
            bvlc.npdu(0x0011, BROADCAST_VMAC, NPDU,
                      dest_options=[HeaderOption.proprietary(555, 1, b"\xC0\xFF\xEE")],
                      data_options=[HeaderOption.secure_path()]),
            bvlc.proprietary(0x0012, BROADCAST_VMAC, 555, 9, b"\x01\x02\x03"),
        ]
        for raw in msgs:
            with self.subTest(msg=raw.hex()):
                await a.send(raw)
                expected = bvlc.hub_broadcast_rewrite(raw, a.vmac)
                await asyncio.gather(b.expect(expected, "broadcast"),
                                     c.expect(expected, "broadcast"))
                await a.assert_silent(what="no echo of its own broadcast")

    async def test_broadcast_from_each_node(self):
        ns = await self.nodes_n(3)
        for i, s in enumerate(ns):
            raw = bvlc.npdu(0x0100 + i, BROADCAST_VMAC, NPDU)
            await s.send(raw)
            expected = bvlc.hub_broadcast_rewrite(raw, s.vmac)
            others = [n for n in ns if n is not s]
            await asyncio.gather(*(n.expect(expected, "broadcast") for n in others))
            await s.assert_silent(what="no echo")

    async def test_spoofed_origin_broadcast_dropped(self):
        a, b, c = await self.nodes_n(3)
        await a.send(bvlc.npdu(0x0020, BROADCAST_VMAC, NPDU, orig=b.vmac))
        await self.all_silent(a, b, c)
        await a.heartbeat()


# --- session management -----------------------------------------------------------------

class SessionTest(HubTestCase):

    async def test_heartbeat(self):
        n = await self.node()
        for mid in (0x0000, 0x0102, 0x8000, 0xFFFF):
            await n.send(bvlc.heartbeat_request(mid))
            await n.expect(bytes([0x0B, 0x00]) + mid.to_bytes(2, "big"), "Heartbeat-ACK")
        # pipelined
        ids = list(range(0x2000, 0x2010))
        for mid in ids:
            await n.send(bvlc.heartbeat_request(mid))
        for mid in ids:
            await n.expect(bvlc.heartbeat_ack(mid), "Heartbeat-ACK")
        await n.assert_silent()

    async def test_disconnect_then_vmac_free(self):
        a = await self.node()
        b = await self.node()
        await a.send(bvlc.disconnect_request(0x0203))
        await a.expect(bytes.fromhex("09000203"), "Disconnect-ACK")
        code = await a.expect_closed()
        self.assertEqual(code, 1000, "expected a WebSocket Close frame with status 1000 after "
                                     "Disconnect-ACK (None = TCP closed without Close frame)")
        # its VMAC is free at once for another UUID
        a2 = await self.node(vmac=a.vmac, name="a2")
        await b.send(bvlc.npdu(0x0301, a.vmac, NPDU))
        await a2.expect(bytes.fromhex("01080301") + b.vmac + NPDU, "unicast to reused VMAC")

    async def test_abrupt_close_frees_vmac(self):
        a = await self.node()
        b = await self.node()
        a.abort()
        a2, _attempts = await connect_when_free(self.hub, a.vmac, bvlc.random_uuid(),
                                                cert_index=2, name="a2")
        self.nodes.append(a2)
        await b.send(bvlc.npdu(0x0302, a.vmac, NPDU))
        await a2.expect(bytes.fromhex("01080302") + b.vmac + NPDU, "unicast to reused VMAC")
        await b.heartbeat()

    async def test_duplicate_vmac_nak(self):
        a = await self.node()
        b = await self.node()
        ws, lport = await handshake(self.hub, a.vmac, bvlc.random_uuid(), 0x4242, node_ctx(3))
        dup = Node(ws, a.vmac, None, lport, "duplicate")
        self.nodes.append(dup)
        # exactly the Std's NAK (docs/protocol.md §7 V7 with this message id), no Error Details
        got = await expect_nak(dup, 0x4242, bvlc.CONNECT_REQUEST, bvlc.NODE_DUPLICATE_VMAC,
                               what="NAK NODE_DUPLICATE_VMAC")
        self.assertEqual(got, bytes.fromhex("00004242" "06" "01" "00" "0007" "0097"))
        await dup.expect_closed()
        # the first node is untouched
        await a.heartbeat()
        await b.send(bvlc.npdu(0x0401, a.vmac, NPDU))
        await a.expect(bytes.fromhex("01080401") + b.vmac + NPDU, "unicast to first node")
        await a.send(bvlc.npdu(0x0402, b.vmac, NPDU))
        await b.expect(bytes.fromhex("01080402") + a.vmac + NPDU, "unicast from first node")
        await self.all_silent(a, b)

    async def test_same_uuid_reconnect_replaces_old(self):
        a1 = await self.node(name="a1")
        b = await self.node(name="b")
        # The same device (its own certificate: the UUID is pinned to its key).
        a2 = await self.node(vmac=a1.vmac, uuid=a1.uuid, name="a2", cert_index=0)
        await a1.expect_disconnect_request("Disconnect-Request on the replaced connection")
        await b.send(bvlc.npdu(0x0501, a1.vmac, NPDU))
        await a2.expect(bytes.fromhex("01080501") + b.vmac + NPDU, "unicast to new connection")
        await a2.heartbeat()
        await a2.send(bvlc.npdu(0x0502, BROADCAST_VMAC, NPDU))
        await b.expect(bvlc.hub_broadcast_rewrite(bvlc.npdu(0x0502, BROADCAST_VMAC, NPDU),
                                                  a1.vmac), "broadcast from new connection")

    async def test_same_uuid_reconnect_with_new_vmac(self):
        a1 = await self.node(name="a1")
        b = await self.node(name="b")
        new_vmac = bvlc.random_vmac()
        a2 = await self.node(vmac=new_vmac, uuid=a1.uuid, name="a2", cert_index=0)
        await a1.expect_disconnect_request("Disconnect-Request on the replaced connection")
        await b.send(bvlc.npdu(0x0601, new_vmac, NPDU))
        await a2.expect(bytes.fromhex("01080601") + b.vmac + NPDU, "unicast to new VMAC")
        await b.send(bvlc.npdu(0x0602, a1.vmac, NPDU))   # old VMAC: nobody there now
        await self.all_silent(a2, b)
        # the old VMAC can be taken by someone else
        c, _ = await connect_when_free(self.hub, a1.vmac, bvlc.random_uuid(), cert_index=3,
                                       name="c")
        self.nodes.append(c)
        await c.heartbeat()


# --- refusals ---------------------------------------------------------------------------

HANDSHAKE_ERRORS = (ssl.SSLError, OSError, EOFError, websockets.exceptions.InvalidHandshake,
                    websockets.exceptions.ConnectionClosed)


class RefusalTest(HubTestCase):

    async def _assert_tls_refused(self, ctx, label):
        mark = self.hub.mark()
        info = {}
        try:
            ws, _ = await open_ws(self.hub, ctx, info=info)
        except asyncio.TimeoutError:
            self.fail(f"{label}: the hub neither completed nor refused the handshake within "
                      f"{OPEN_TIMEOUT} s")
        except HANDSHAKE_ERRORS as exc:
            refused = exc
        else:
            # Upgrade went through: the refusal failed. Show how far it gets.
            detail = "WebSocket session established"
            try:
                await ws.send(bvlc.connect_request(1, bvlc.random_vmac(), bvlc.random_uuid()))
                got = await asyncio.wait_for(ws.recv(), 1.0)
                detail += f"; Connect-Request answered with {bvlc.describe(got)}"
            except Exception as exc:
                detail += f"; then {type(exc).__name__}: {exc}"
            await Node(ws, None, None, None).close()
            self.fail(f"{label}: hub did not refuse the client: {detail}")
        line = await self.wait_log(r"event=tls_handshake_failed", since=mark)
        self.assertIsNotNone(
            line, f"{label}: client saw {type(refused).__name__}: {refused}, but no "
                  f"event=tls_handshake_failed in hub stderr; stderr tail:\n"
                  + self.hub.stderr_tail(10))
        self.assertRegex(line, r"\breason=", f"{label}: log line has no reason: {line!r}")
        lines = self.hub.logs_since(mark, r"event=tls_handshake_failed")
        if "lport" in info and any("peer=" in ln for ln in lines):
            self.assertTrue(any(f":{info['lport']}" in ln for ln in lines),
                            f"{label}: no tls_handshake_failed line names our port "
                            f"{info['lport']}: {lines}")
        return refused

    async def test_tls12_only_client_refused(self):
        cert, key = PKI.node(0)
        await self._assert_tls_refused(client_ctx(cert, key, max_version=ssl.TLSVersion.TLSv1_2),
                                       "TLS 1.2-only client")

    async def test_no_client_certificate_refused(self):
        # TLS 1.3: the client may finish its side of the handshake before the hub rejects
        # the empty Certificate, so the failure can show only when reading the HTTP answer.
        await self._assert_tls_refused(client_ctx(), "client without certificate")

    async def test_foreign_ca_client_refused(self):
        await self._assert_tls_refused(client_ctx(PKI.foreign_node_cert, PKI.foreign_node_key),
                                       "client cert from a foreign CA")

    async def test_expired_client_cert_refused(self):
        if not PKI.expired_node_cert:
            self.skipTest("no expired certificate: " + "; ".join(PKI.notes))
        await self._assert_tls_refused(client_ctx(PKI.expired_node_cert, PKI.expired_node_key),
                                       "expired client cert")

    async def test_not_yet_valid_client_cert_refused(self):
        if not PKI.future_node_cert:
            self.skipTest("no not-yet-valid certificate: " + "; ".join(PKI.notes))
        await self._assert_tls_refused(client_ctx(PKI.future_node_cert, PKI.future_node_key),
                                       "not-yet-valid client cert")

    async def _assert_upgrade_400(self, subprotocols, label):
        mark = self.hub.mark()
        try:
            ws, _ = await open_ws(self.hub, node_ctx(), subprotocols)
        except websockets.exceptions.InvalidStatusCode as exc:
            self.assertEqual(exc.status_code, 400, f"{label}: wrong HTTP status")
        except asyncio.TimeoutError:
            self.fail(f"{label}: no HTTP answer within {OPEN_TIMEOUT} s")
        except HANDSHAKE_ERRORS as exc:
            self.fail(f"{label}: expected HTTP 400, got {type(exc).__name__}: {exc}")
        else:
            proto = ws.subprotocol
            await Node(ws, None, None, None).close()
            self.fail(f"{label}: hub answered 101 (subprotocol {proto!r}); expected HTTP 400")
        line = await self.wait_log(r"event=upgrade_refused", since=mark)
        self.assertIsNotNone(line, f"{label}: no event=upgrade_refused in hub stderr; tail:\n"
                                   + self.hub.stderr_tail(10))

    async def test_wrong_subprotocol_direct_connection_400(self):
        await self._assert_upgrade_400([DC_SUBPROTOCOL], "subprotocol dc.bsc.bacnet.org")

    async def test_wrong_subprotocol_unknown_400(self):
        await self._assert_upgrade_400(["chat", "hub.bsc.bacnet.org.evil"], "unknown subprotocol")

    async def test_missing_subprotocol_400(self):
        await self._assert_upgrade_400(None, "no subprotocol")

    async def test_good_client_accepted_after_refusals(self):
        # every refusal above ran on this same hub; it must still serve normal nodes
        await self._assert_tls_refused(client_ctx(), "client without certificate")
        a, b = await self.nodes_n(2)
        await a.send(bvlc.npdu(0x0701, b.vmac, NPDU))
        await b.expect(bytes.fromhex("01080701") + a.vmac + NPDU, "unicast")


# --- other hub options ------------------------------------------------------------------

class PlaintextTest(HubTestCase):
    """--no-tls: ws:// test mode (for bac_py rigs)."""
    TLS = False

    async def test_plaintext_session_and_routing(self):
        self.assertTrue(self.hub.listen_line.startswith("bschub listening on ws://"))
        a, b, c = await self.nodes_n(3)
        await a.heartbeat()
        await a.send(bvlc.npdu(0x0801, b.vmac, NPDU))
        await b.expect(bytes.fromhex("01080801") + a.vmac + NPDU, "unicast")
        await a.send(bvlc.npdu(0x0802, BROADCAST_VMAC, NPDU))
        exp = bytes.fromhex("010C0802") + a.vmac + BROADCAST_VMAC + NPDU
        await asyncio.gather(b.expect(exp, "broadcast"), c.expect(exp, "broadcast"))
        await a.assert_silent()

    async def test_plaintext_missing_subprotocol_400(self):
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            ws, _ = await open_ws(self.hub, None, None)
            await Node(ws, None, None, None).close()
        self.assertEqual(cm.exception.status_code, 400)


class MaxConnectionsTest(HubTestCase):
    """--max-connections 2. Assumption: a connection over the limit is refused (TCP close,
    TLS failure, HTTP error or close before Connect-Accept) within a few seconds, and the
    slot is usable again once a node leaves."""
    HUB_ARGS = ("--max-connections", "2")

    async def test_third_connection_refused_then_slot_reused(self):
        a, b = await self.nodes_n(2)
        try:
            ws, lport = await handshake(self.hub, bvlc.random_vmac(), bvlc.random_uuid(), 0x0901,
                                        node_ctx(2))
        except (HANDSHAKE_ERRORS + (asyncio.TimeoutError,)) as exc:
            if isinstance(exc, asyncio.TimeoutError):
                self.fail("third connection neither accepted nor refused within "
                          f"{OPEN_TIMEOUT} s")
        else:
            extra = Node(ws, None, None, lport, "third")
            self.nodes.append(extra)
            try:
                got = await asyncio.wait_for(ws.recv(), IO_TIMEOUT)
            except websockets.exceptions.ConnectionClosed:
                pass
            except asyncio.TimeoutError:
                self.fail("third connection left open without an answer for "
                          f"{IO_TIMEOUT} s")
            else:
                accept = accept_bytes(0x0901)
                self.assertNotEqual(got, accept, "third connection accepted with limit 2")
                await extra.expect_closed()
        await a.heartbeat()
        await b.heartbeat()
        await a.send(bvlc.disconnect_request(0x0902))
        await a.expect(bvlc.disconnect_ack(0x0902), "Disconnect-ACK")
        await a.expect_closed()
        deadline = time.monotonic() + FREE_RETRY
        while True:
            try:
                c = await self.node(name="c")
                break
            except (AssertionError,) + HANDSHAKE_ERRORS:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.1)
        await c.send(bvlc.npdu(0x0903, b.vmac, NPDU))
        await b.expect(bytes.fromhex("01080903") + c.vmac + NPDU, "unicast")


# --- malformed input (docs/protocol.md §4 / §5 / §7 "Short checks") -------------------------

class ProtocolErrorTest(HubTestCase):
    """Behaviour docs/protocol.md asks for beyond the CLI contract (§4, §5, §7, §8 item 7)."""

    async def _expect_nak(self, node, msg_id, fn, code, marker=0):
        await expect_nak(node, msg_id, fn, code, marker)

    async def test_short_message_ignored(self):
        a, b = await self.nodes_n(2)
        await a.send(bytes.fromhex("0A00"))
        await a.send(b"")
        await self.all_silent(a, b)
        await a.heartbeat()

    async def test_unknown_function_nak(self):
        a, b = await self.nodes_n(2)
        await a.send(bytes.fromhex("0D040070112233445566"))
        await self._expect_nak(a, 0x0070, 0x0D, bvlc.BVLC_FUNCTION_UNKNOWN)
        await self.all_silent(a, b)
        await a.heartbeat()

    async def test_unknown_function_broadcast_silent(self):
        a, b = await self.nodes_n(2)
        await a.send(bytes.fromhex("0D040071") + BROADCAST_VMAC)
        await self.all_silent(a, b)
        await a.heartbeat()

    async def test_npdu_without_payload_nak(self):
        a, b = await self.nodes_n(2)
        await a.send(bytes.fromhex("0104B5EC") + b.vmac)
        await self._expect_nak(a, 0xB5EC, bvlc.ENCAPSULATED_NPDU, bvlc.PAYLOAD_EXPECTED)
        await b.assert_silent()

    async def test_bad_option_structure_nak(self):
        a, b = await self.nodes_n(2)
        # proprietary destination option without data
        await a.send(bytes.fromhex("0106B5ED") + b.vmac + bytes.fromhex("1F") + NPDU)
        await self._expect_nak(a, 0xB5ED, bvlc.ENCAPSULATED_NPDU, bvlc.HEADER_ENCODING_ERROR,
                               marker=0x1F)
        await b.assert_silent()

    async def test_connect_request_hub_vmac_refused(self):
        ws, lport = await handshake(self.hub, HUB_VMAC, bvlc.random_uuid(), 0x0A01, node_ctx())
        n = Node(ws, HUB_VMAC, None, lport)
        self.nodes.append(n)
        await expect_nak(n, 0x0A01, bvlc.CONNECT_REQUEST, bvlc.NODE_DUPLICATE_VMAC,
                         what="NAK for the hub's own VMAC")
        await n.expect_closed()

    async def test_truncated_connect_request_nak_and_close(self):
        ws, lport = await open_ws(self.hub, node_ctx())
        n = Node(ws, None, None, lport)
        self.nodes.append(n)
        await n.send(bvlc.connect_request(0x0A02, bvlc.random_vmac(), bvlc.random_uuid())[:-3])
        await self._expect_nak(n, 0x0A02, bvlc.CONNECT_REQUEST, bvlc.MESSAGE_INCOMPLETE)
        await n.expect_closed()

    async def test_message_before_connect_request_ignored(self):
        ws, lport = await open_ws(self.hub, node_ctx())
        n = Node(ws, bvlc.random_vmac(), bvlc.random_uuid(), lport)
        self.nodes.append(n)
        await n.send(bvlc.heartbeat_request(0x0A03))
        await n.assert_silent()
        await n.send(bvlc.connect_request(0x0A04, n.vmac, n.uuid))
        await n.expect(accept_bytes(0x0A04), "Connect-Accept")


# --- process lifecycle ------------------------------------------------------------------

class LifecycleTest(unittest.IsolatedAsyncioTestCase):
    """SIGTERM / SIGINT with live sessions: the hub closes them and exits 0."""

    async def _signal_with_nodes(self, sig):
        loop = asyncio.get_running_loop()
        hub = await loop.run_in_executor(None, start_hub)
        try:
            ns = [await connect_node(hub, cert_index=i) for i in range(2)]
            hub.send_signal(sig)
            codes = await asyncio.gather(*(n.expect_closed(timeout=5.0,
                                                           allow_disconnect_request=True)
                                           for n in ns), return_exceptions=True)
            rc = await loop.run_in_executor(None, hub.wait, 5.0)
            self.assertIsNotNone(rc, f"bschub did not exit within 5 s of signal {sig}")
            self.assertEqual(rc, 0, f"exit code after signal {sig}; stderr tail:\n"
                             + hub.stderr_tail())
            for c in codes:
                if isinstance(c, BaseException):
                    raise c
        finally:
            hub.stop(check=False)

    async def test_sigterm_with_sessions_exits_0(self):
        await self._signal_with_nodes(signal.SIGTERM)

    async def test_sigint_with_sessions_exits_0(self):
        await self._signal_with_nodes(signal.SIGINT)


if __name__ == "__main__":
    hubproc.main()

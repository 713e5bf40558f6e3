#!/usr/bin/python3
"""Bad input at every layer (BVLC-SC, WebSocket, HTTP upgrade, TLS), one case per row of
docs/bad-input.md. Each case goes over a real TLS connection to a real hub and checks the
exact answer on the wire, and that bystander nodes keep exchanging traffic afterwards.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_bad_input.py [-v] [Class.test]

Nodes, PKI and hub come from the test library (lib/nodes.py, like every hub suite). The raw
WebSocket / HTTP / TLS cases write their own bytes on an asyncio TLS stream: the HTTP
upgrade by hand, then frames with our own masking.

Ordering trick used instead of "wait and see that nothing arrives": the hub handles the
messages of one connection in order, and keeps per-pair order when it forwards. So after a
bad message from node A, a Heartbeat-Request from A must be answered by the very next
message A receives, and a good unicast A -> B must be the very next message B receives.
Anything the hub wrongly answered or forwarded would show up first.

docs/bad-input.md lists every case with the hub's answer, and the hub bugs found so far
(all fixed; their tests are plain regression tests).
"""

import asyncio
import os
import re
import signal
import ssl
import sys
import time

from lib import bvlc, certs, hubproc, nodes, wsframe
from lib.bvlc import BROADCAST_VMAC, UNKNOWN_VMAC, HeaderOption
from lib.nodes import (HUB_MAX_BVLC, HUB_VMAC, IO_TIMEOUT, NPDU, HubTestCase, Node,
                       accept_bytes, client_ctx, connect_when_free, exchange,
                       expect_nak, nak_prefix, node_ctx, open_ws, tcp_connect)
from lib.wsframe import upgrade_request, ws_frame

EXTRA = {}   # extra certificates made in setUpModule: name -> (cert, key)


def setUpModule():
    pki = nodes.setup_pki()
    # Signed by the site CA, but EKU serverAuth only (no clientAuth).
    EXTRA["server_only_eku"] = certs.make_leaf(pki, "eku-server-only", ext="v3_node_server_only")
    # Self-signed leaf with the right extensions: signed by nobody the hub trusts.
    EXTRA["self_signed"] = certs.make_self_signed(pki, "self-signed")


def tearDownModule():
    nodes.cleanup_pki()


# Some checks read debug-level log lines (bvlc_malformed, spoofed_origin); they are skipped
# when the hubs run with a quieter BSCHUB_LOG_LEVEL.
DEBUG_LOGS = os.environ.get("BSCHUB_LOG_LEVEL", "debug") == "debug"


def verbose():
    return os.environ.get("BSCHUB_TEST_VERBOSE") or "-v" in sys.argv


def note(text):
    """Print an observation (TLS reasons, alerts) when run with -v."""
    if verbose():
        sys.stderr.write(f"\n    observed: {text}\n")


# --- BVLC helpers -----------------------------------------------------------------------

ADV = bytes([1, 0]) + (1600).to_bytes(2, "big") + (1497).to_bytes(2, "big")  # Advertisement


def hexb(text):
    return bytes.fromhex(text.replace(" ", ""))


def mid(i):
    return i.to_bytes(2, "big")


def nak_to_prefix(msg_id, fn, code, dest, marker=0):
    """Fixed part of a NAK addressed with D (the offending message carried O = dest)."""
    return (bytes([bvlc.RESULT, bvlc.FLAG_DEST]) + mid(msg_id) + dest
            + nak_prefix(msg_id, fn, code, marker)[4:])


async def expect_nak_to(node, msg_id, fn, code, dest, marker=0, what="NAK"):
    prefix = nak_to_prefix(msg_id, fn, code, dest, marker)
    got = await node.recv(what=f"{what} {prefix.hex()}")
    if got[:len(prefix)] != prefix:
        raise AssertionError(f"{node}: {what}: expected {prefix.hex()} [+ UTF-8 details], "
                             f"got {bvlc.describe(got)}")
    details = got[len(prefix):]
    details.decode("utf-8")
    if b"\x00" in details:
        raise AssertionError(f"{node}: NAK details contain NUL: {details!r}")
    return got


def unicast_from(sender, dest, msg_id, data=NPDU):
    """(what sender sends, what dest must receive) for a plain unicast."""
    raw = bvlc.npdu(msg_id, dest.vmac, data)
    return raw, bvlc.hub_unicast_rewrite(raw, sender.vmac)


async def marker(sender, *receivers, msg_id=0x7D00):
    """sender -> each receiver: a good unicast that must be the receiver's NEXT message
    (nothing the hub forwarded wrongly is queued before it)."""
    for i, r in enumerate(receivers):
        raw, exp = unicast_from(sender, r, msg_id + i)
        await sender.send(raw)
        await r.expect(exp, "marker unicast (nothing else may arrive before it)")


async def sync(node, msg_id=0x7C00):
    """The node's NEXT message must be the Heartbeat-ACK: the hub answered nothing else."""
    await node.send(bvlc.heartbeat_request(msg_id))
    await node.expect(bvlc.heartbeat_ack(msg_id),
                      "Heartbeat-ACK (no answer to the bad input may come before it)")


class BadInputCase(HubTestCase):
    """HubTestCase plus the bystander checks."""

    async def trio(self):
        """(offender, bystander b, bystander c)."""
        a = await self.node(name="offender")
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        return a, b, c

    async def bystanders_ok(self, b, c, offender=None):
        """Nothing was forwarded to b or c, nothing answered to the offender beyond what the
        test already read, and b and c still exchange traffic."""
        if offender is not None:
            await sync(offender)
            await marker(offender, b, c)
        await exchange(b, c)

    async def log_since(self, pattern, since, timeout=3.0, debug=False):
        if debug and not DEBUG_LOGS:
            return None
        line = await self.wait_log(pattern, since, timeout=timeout)
        self.assertIsNotNone(line, f"no log line matching {pattern!r}; stderr tail:\n"
                             + self.hub.stderr_tail(15))
        return line


# =========================================================================================
# BVLC-SC
# =========================================================================================

class BvlcHeaderTest(BadInputCase):
    """Malformed BVLC-SC headers and option lists from a connected node."""

    async def test_truncated_header_silence(self):
        # 0A00 and the empty message: test_hub.py::ProtocolErrorTest::test_short_message_ignored
        a, b, c = await self.trio()
        since = self.hub.mark()
        for raw in (hexb("01"), hexb("0A0001"), hexb("010C00")):
            await a.send(raw)
        await self.bystanders_ok(b, c, a)
        await self.log_since(r'event=bvlc_malformed .*reason="shorter than 4 octets"', since,
                             debug=True)

    async def test_vmac_cut_short_message_incomplete(self):
        a, b, c = await self.trio()
        # O flag, 3 of 6 octets: no usable O, so the NAK has no D
        await a.send(hexb("0108 1201 AABBCC"))
        await expect_nak(a, 0x1201, bvlc.ENCAPSULATED_NPDU, bvlc.MESSAGE_INCOMPLETE)
        # D flag, 2 of 6 octets
        await a.send(hexb("0104 1202 AABB"))
        await expect_nak(a, 0x1202, bvlc.ENCAPSULATED_NPDU, bvlc.MESSAGE_INCOMPLETE)
        # O complete (= the sender), D cut: the NAK goes to D = that O
        await a.send(hexb("020C 1203") + a.vmac + hexb("AABBCC"))
        await expect_nak_to(a, 0x1203, bvlc.ADDRESS_RESOLUTION, bvlc.MESSAGE_INCOMPLETE, a.vmac)
        await self.bystanders_ok(b, c, a)

    async def test_unknown_function_with_origin_nak_to_origin(self):
        # 0x0D without O: test_hub.py::ProtocolErrorTest::test_unknown_function_nak
        a, b, c = await self.trio()
        await a.send(hexb("FF0C 1301") + a.vmac + b.vmac + NPDU)
        await expect_nak_to(a, 0x1301, 0xFF, bvlc.BVLC_FUNCTION_UNKNOWN, a.vmac)
        await a.send(hexb("8004 1302") + b.vmac)
        await expect_nak(a, 0x1302, 0x80, bvlc.BVLC_FUNCTION_UNKNOWN)
        await self.bystanders_ok(b, c, a)

    async def test_reserved_flag_bits_parameter_out_of_range(self):
        a, b, c = await self.trio()
        since = self.hub.mark()
        cases = [
            (hexb("0184 1401") + b.vmac + NPDU, 0x1401, bvlc.ENCAPSULATED_NPDU, None),
            (hexb("0A10 1402"), 0x1402, bvlc.HEARTBEAT_REQUEST, None),
            (hexb("01F4 1403") + b.vmac + NPDU, 0x1403, bvlc.ENCAPSULATED_NPDU, None),
            (hexb("018C 1404") + a.vmac + b.vmac + NPDU, 0x1404, bvlc.ENCAPSULATED_NPDU,
             a.vmac),
        ]
        for raw, i, fn, dest in cases:
            with self.subTest(msg=raw.hex()):
                await a.send(raw)
                if dest is None:
                    await expect_nak(a, i, fn, bvlc.PARAMETER_OUT_OF_RANGE)
                else:
                    await expect_nak_to(a, i, fn, bvlc.PARAMETER_OUT_OF_RANGE, dest)
        await self.bystanders_ok(b, c, a)
        await self.log_since(r'event=bvlc_malformed .*reason="reserved control flag bit set"',
                             since, debug=True)

    async def test_vmac_on_connection_control_header_encoding_error(self):
        # Std: O/D never on 0x06..0x0B (BStack: HEADER_ENCODING_ERROR)
        a, b, c = await self.trio()
        await a.send(hexb("0A08 1501") + a.vmac)                     # Heartbeat-Request + O
        await expect_nak_to(a, 0x1501, bvlc.HEARTBEAT_REQUEST, bvlc.HEADER_ENCODING_ERROR,
                            a.vmac)
        await a.send(hexb("0A04 1502") + b.vmac)                     # Heartbeat-Request + D
        await expect_nak(a, 0x1502, bvlc.HEARTBEAT_REQUEST, bvlc.HEADER_ENCODING_ERROR)
        await a.send(hexb("0804 1503") + b.vmac)                     # Disconnect-Request + D
        await expect_nak(a, 0x1503, bvlc.DISCONNECT_REQUEST, bvlc.HEADER_ENCODING_ERROR)
        await a.send(hexb("0604 1504") + b.vmac
                     + bvlc.ConnectPayload(a.vmac, a.uuid, 1600, 1497).encode())
        await expect_nak(a, 0x1504, bvlc.CONNECT_REQUEST, bvlc.HEADER_ENCODING_ERROR)
        # data options where only Encapsulated-NPDU may carry them
        await a.send(hexb("0205 1505") + b.vmac + hexb("41"))
        await expect_nak(a, 0x1505, bvlc.ADDRESS_RESOLUTION, bvlc.INCONSISTENT_PARAMETERS)
        await a.send(hexb("0A01 1506 41"))
        await expect_nak(a, 0x1506, bvlc.HEARTBEAT_REQUEST, bvlc.INCONSISTENT_PARAMETERS)
        # the Disconnect-Request with D above was refused, not acted on: still connected
        await self.bystanders_ok(b, c, a)

    async def test_malformed_option_lists_message_incomplete(self):
        a, b, c = await self.trio()
        cases = [
            ("0106 1601", b.vmac, ""),                        # dest options flagged, absent
            ("0106 1602", b.vmac, "3F 0010 022B01"),          # length past the end
            ("0106 1603", b.vmac, "3F 00"),                   # header length cut short
            ("0106 1604", b.vmac, "89"),                      # More set on the last entry
            ("0106 1605", b.vmac, "89 C9 A9 0001"),           # no end marker, data cut
            ("0107 1606", b.vmac, "09"),                      # data options flagged, absent
            ("0105 1607", b.vmac, "C1"),                      # data list: More on the last
        ]
        for head, dest, tail in cases:
            raw = hexb(head) + dest + hexb(tail)
            with self.subTest(msg=raw.hex()):
                await a.send(raw)
                await expect_nak(a, int(head[5:], 16), bvlc.ENCAPSULATED_NPDU,
                                 bvlc.MESSAGE_INCOMPLETE)
        # with O: the NAK goes to D = O
        await a.send(hexb("010E 1608") + a.vmac + b.vmac + hexb("89"))
        await expect_nak_to(a, 0x1608, bvlc.ENCAPSULATED_NPDU, bvlc.MESSAGE_INCOMPLETE, a.vmac)
        await self.bystanders_ok(b, c, a)

    async def test_bad_option_structure_header_encoding_error(self):
        # proprietary without data (0x1F): test_hub.py::ProtocolErrorTest::
        # test_bad_option_structure_nak
        a, b, c = await self.trio()
        cases = [
            (hexb("0106 1701") + b.vmac + hexb("41") + NPDU, 0x41),          # Secure Path in dest
            (hexb("0105 1702") + b.vmac + hexb("61 0000") + NPDU, 0x61),     # Secure Path + data
            (hexb("0106 1703") + b.vmac + hexb("3F 0002 022B") + NPDU, 0x3F),  # proprietary < 3
            (hexb("0106 1704") + b.vmac + hexb("89") * 32 + hexb("09") + NPDU, 0x09),  # 33
        ]
        for raw, mk in cases:
            with self.subTest(msg=raw.hex()):
                await a.send(raw)
                await expect_nak(a, int.from_bytes(raw[2:4], "big"), bvlc.ENCAPSULATED_NPDU,
                                 bvlc.HEADER_ENCODING_ERROR, marker=mk)
        await self.bystanders_ok(b, c, a)

    async def test_payload_not_fitting_function_nak(self):
        a, b, c = await self.trio()
        D = b.vmac
        cases = [
            (hexb("0404 1801") + D + ADV[:5], bvlc.MESSAGE_INCOMPLETE),
            (hexb("0404 1802") + D + ADV + b"\x00", bvlc.UNEXPECTED_DATA),
            (hexb("0404 1803") + D, bvlc.PAYLOAD_EXPECTED),
            (hexb("0404 1804") + D + b"\x03" + ADV[1:], bvlc.PARAMETER_OUT_OF_RANGE),
            (hexb("0404 1805") + D + b"\x01\x02" + ADV[2:], bvlc.PARAMETER_OUT_OF_RANGE),
            (hexb("0204 1806") + D + b"\x00", bvlc.UNEXPECTED_DATA),
            (hexb("0504 1807") + D + b"\x00\x01", bvlc.UNEXPECTED_DATA),
            (hexb("0C04 1808") + D + hexb("022B"), bvlc.MESSAGE_INCOMPLETE),
            (hexb("0C04 1809") + D, bvlc.PAYLOAD_EXPECTED),
            (hexb("0A00 180A 00"), bvlc.UNEXPECTED_DATA),
            (hexb("0800 180B 00"), bvlc.UNEXPECTED_DATA),     # not acted on: stays connected
            (hexb("0600 180C") + bvlc.ConnectPayload(a.vmac, a.uuid, 1600, 1497).encode()
             + b"\x00", bvlc.UNEXPECTED_DATA),
            (hexb("0600 180D") + bvlc.ConnectPayload(a.vmac, a.uuid, 1600, 1497).encode()[:25],
             bvlc.MESSAGE_INCOMPLETE),
        ]
        for raw, code in cases:
            with self.subTest(msg=raw.hex()):
                await a.send(raw)
                await expect_nak(a, int.from_bytes(raw[2:4], "big"), raw[0], code)
        await self.bystanders_ok(b, c, a)

    async def test_bad_payload_on_responses_never_naked(self):
        a, b, c = await self.trio()
        D = b.vmac
        for raw in (
            hexb("0004 1901") + D,                           # Result without payload
            hexb("0004 1902") + D + hexb("0C 00 00"),        # ACK longer than 2
            hexb("0004 1903") + D + hexb("01 01 00 0007"),   # NAK shorter than 7
            hexb("0004 1904") + D + hexb("01 05"),           # result code 5
            hexb("0004 1905") + D + hexb("01 01 00 0007 0091 41 00 42"),  # NUL in details
            hexb("0305 1906") + D + hexb("41") + b"wss://x",  # data options on a response
            hexb("0B00 1907 00"),                            # Heartbeat-ACK with payload
            hexb("0700 1908") + bytes(25),                   # Connect-Accept cut short
            hexb("0900 1909 00"),                            # Disconnect-ACK with payload
            hexb("0084 190A") + D + hexb("0C00"),            # reserved flag on a response
        ):
            await a.send(raw)
        await self.bystanders_ok(b, c, a)

    async def test_oversize_dropped_silently(self):
        a, c = await self.node(name="offender"), await self.node(name="bystander-c")
        big = await self.node(max_bvlc=6000, msg_id=0x0C01, cert_index=2, name="bystander-6000")
        # exactly max BVLC (6000) to a node that announced 6000: forwarded byte for byte
        data = bytes([0x01, 0x00]) + os.urandom(HUB_MAX_BVLC - 10 - 2)
        raw = bvlc.npdu(0x1A01, big.vmac, data)
        self.assertEqual(len(raw), HUB_MAX_BVLC)
        await a.send(raw)
        await big.expect(bvlc.hub_unicast_rewrite(raw, a.vmac), "6000-octet unicast")
        # 6001 octets: dropped, no NAK, not forwarded; also unicast, broadcast, malformed
        for raw in (bvlc.npdu(0x1A02, big.vmac, data + b"\x00"),
                    bvlc.npdu(0x1A03, BROADCAST_VMAC, data + b"\x00"),
                    hexb("0D04 1A04") + big.vmac + bytes(HUB_MAX_BVLC - 9),
                    bvlc.npdu(0x1A05, big.vmac, bytes([1, 0]) + bytes(65536 - 12))):
            await a.send(raw)
        await self.bystanders_ok(big, c, a)

    async def test_destination_hub_vmac_dropped_silently(self):
        a, b, c = await self.trio()
        for raw in (bvlc.npdu(0x1B01, HUB_VMAC, NPDU),
                    bvlc.npdu(0x1B02, HUB_VMAC, NPDU, orig=a.vmac),
                    hexb("0204 1B03") + HUB_VMAC,
                    hexb("0504 1B04") + HUB_VMAC,
                    bvlc.proprietary(0x1B05, HUB_VMAC, 555, 7, b"\x01")):
            await a.send(raw)
        await self.bystanders_ok(b, c, a)

    async def test_nak_copies_message_id_and_addresses_origin(self):
        a, b, c = await self.trio()
        for i in (0x0000, 0x8001, 0xFFFF):
            with self.subTest(msg_id=i):
                await a.send(bytes([0x0E, 0x04]) + mid(i) + b.vmac)
                got = await expect_nak(a, i, 0x0E, bvlc.BVLC_FUNCTION_UNKNOWN)
                self.assertEqual(got[1], 0x00, "NAK without O must carry no O/D")
                await a.send(bytes([0x0E, 0x0C]) + mid(i) + a.vmac + b.vmac)
                got = await expect_nak_to(a, i, 0x0E, bvlc.BVLC_FUNCTION_UNKNOWN, a.vmac)
                self.assertEqual(got[1], bvlc.FLAG_DEST, "NAK to an O: D only, no O")
        await self.bystanders_ok(b, c, a)


class BvlcRoutingTest(BadInputCase):
    """Must-understand options, broadcasts, spoofing, results and session misuse."""

    async def test_must_understand_unknown_option_to_hub_header_not_understood(self):
        a, b, c = await self.trio()
        # Address-Resolution with no D is addressed to the hub
        await a.send(hexb("0202 1C01 49"))
        await expect_nak(a, 0x1C01, bvlc.ADDRESS_RESOLUTION, bvlc.HEADER_NOT_UNDERSTOOD,
                         marker=0x49)
        # with O: the NAK goes to D = O
        await a.send(hexb("020A 1C02") + a.vmac + hexb("6A 0002 BEEF"))
        await expect_nak_to(a, 0x1C02, bvlc.ADDRESS_RESOLUTION, bvlc.HEADER_NOT_UNDERSTOOD,
                            a.vmac, marker=0x6A)
        # the first must-understand entry of a list is reported (0x89 is not must-understand)
        await a.send(hexb("0103 1C03 89 CA 0001 FF 09 41") + NPDU)
        await expect_nak(a, 0x1C03, bvlc.ENCAPSULATED_NPDU, bvlc.HEADER_NOT_UNDERSTOOD,
                         marker=0xCA)
        # without must-understand the hub answers as for any message with no D
        await a.send(hexb("0202 1C04 09"))
        await expect_nak(a, 0x1C04, bvlc.ADDRESS_RESOLUTION, bvlc.HEADER_ENCODING_ERROR)
        await self.bystanders_ok(b, c, a)

    async def test_must_understand_option_on_heartbeat_request(self):
        # Regression (hub bug at commit c2fb182: answered with a Heartbeat-ACK): a
        # Heartbeat-Request with a must-understand destination option the hub does not
        # know gets NAK HEADER_NOT_UNDERSTOOD, marker 0x49 (docs/protocol.md §4).
        a, b, c = await self.trio()
        await a.send(hexb("0A02 1C11 49"))
        await expect_nak(a, 0x1C11, bvlc.HEARTBEAT_REQUEST, bvlc.HEADER_NOT_UNDERSTOOD,
                         marker=0x49)
        await self.bystanders_ok(b, c, a)

    async def test_must_understand_option_on_disconnect_request(self):
        # Regression (hub bug at c2fb182: Disconnect-ACK, then close 1000): NAK
        # HEADER_NOT_UNDERSTOOD, marker 0x49, and the connection is kept.
        a, b, c = await self.trio()
        await a.send(hexb("0802 1C12 49"))
        await expect_nak(a, 0x1C12, bvlc.DISCONNECT_REQUEST, bvlc.HEADER_NOT_UNDERSTOOD,
                         marker=0x49)
        await self.bystanders_ok(b, c, a)

    async def test_must_understand_option_on_connect_request(self):
        # Regression (hub bug at c2fb182: Connect-Accept): NAK HEADER_NOT_UNDERSTOOD,
        # marker 0x49, then close, as for any rejected Connect-Request.
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        ws, lport = await open_ws(self.hub, node_ctx(3))
        n = Node(ws, bvlc.random_vmac(), bvlc.random_uuid(), lport, "offender")
        self.nodes.append(n)
        await n.send(hexb("0602 1C13 49") + bvlc.ConnectPayload(n.vmac, n.uuid, 1600,
                                                                 1497).encode())
        await expect_nak(n, 0x1C13, bvlc.CONNECT_REQUEST, bvlc.HEADER_NOT_UNDERSTOOD,
                         marker=0x49)
        await n.expect_closed()
        await self.bystanders_ok(b, c)

    async def test_must_understand_unknown_option_forwarded_unchanged(self):
        a, b, c = await self.trio()
        msgs = [
            bvlc.npdu(0x1C21, b.vmac, NPDU, dest_options=[HeaderOption(0x49)]),
            bvlc.npdu(0x1C22, b.vmac, NPDU, orig=a.vmac,
                      dest_options=[HeaderOption(0x09), HeaderOption(0x6A, b"\xBE\xEF")],
                      data_options=[HeaderOption(0x4B), HeaderOption.secure_path()]),
            hexb("0406 1C23") + b.vmac + hexb("7F 0003 022B01") + ADV,   # Advertisement
        ]
        for raw in msgs:
            with self.subTest(msg=raw.hex()):
                await a.send(raw)
                await b.expect(bvlc.hub_unicast_rewrite(raw, a.vmac), "forwarded unchanged")
        raw = bvlc.npdu(0x1C24, BROADCAST_VMAC, NPDU, dest_options=[HeaderOption(0x49)])
        await a.send(raw)
        exp = bvlc.hub_broadcast_rewrite(raw, a.vmac)
        await asyncio.gather(b.expect(exp, "broadcast"), c.expect(exp, "broadcast"))
        await self.bystanders_ok(b, c, a)

    async def test_broadcast_with_bad_payload_silence(self):
        # unknown function broadcast: test_hub.py::ProtocolErrorTest::
        # test_unknown_function_broadcast_silent
        a, b, c = await self.trio()
        BC = BROADCAST_VMAC
        cp = bvlc.ConnectPayload(a.vmac, a.uuid, 1600, 1497).encode()
        for raw in (
            hexb("0104 1D01") + BC,                              # NPDU missing
            hexb("0184 1D02") + BC + NPDU,                       # reserved flag bits
            hexb("0106 1D03") + BC + hexb("1F") + NPDU,          # bad option structure
            hexb("0106 1D04") + BC + hexb("89"),                 # option list cut short
            hexb("0107 1D05") + BC + hexb("49"),                 # data options absent
            hexb("0404 1D06") + BC + ADV,                        # not a broadcast function
            hexb("0204 1D07") + BC,                              # not a broadcast function
            hexb("0C04 1D08") + BC + hexb("022B"),               # proprietary too short
            hexb("010C 1D09") + a.vmac + BC,                     # O+D, NPDU missing
            hexb("0604 1D0A") + BC + cp,                         # Connect-Request with D
            hexb("0A04 1D0B") + BC,                              # Heartbeat-Request with D
            hexb("0804 1D0C") + BC,                              # Disconnect-Request with D
        ):
            await a.send(raw)
        # every one was silent: the offender's next message is its Heartbeat-ACK, and the
        # bystanders' next message is a good broadcast
        await sync(a)
        raw = bvlc.npdu(0x1D0F, BC, NPDU)
        await a.send(raw)
        exp = bvlc.hub_broadcast_rewrite(raw, a.vmac)
        await asyncio.gather(b.expect(exp, "good broadcast"), c.expect(exp, "good broadcast"))
        await self.bystanders_ok(b, c, a)

    async def test_spoofed_origin_to_hub_and_proprietary_dropped(self):
        # unicast / broadcast NPDU with another O: test_hub.py::UnicastTest::
        # test_spoofed_origin_unicast_dropped, BroadcastTest::test_spoofed_origin_broadcast_dropped
        a, b, c = await self.trio()
        since = self.hub.mark()
        for raw in (hexb("0208 1E01") + c.vmac,                          # to the hub, O = c
                    bvlc.proprietary(0x1E02, b.vmac, 555, 7, b"", orig=c.vmac),
                    bvlc.npdu(0x1E03, b.vmac, NPDU, orig=UNKNOWN_VMAC),
                    bvlc.npdu(0x1E04, b.vmac, NPDU, orig=BROADCAST_VMAC)):
            await a.send(raw)
        await self.bystanders_ok(b, c, a)
        await self.log_since(r"event=spoofed_origin .*claimed=" + bvlc.vmac_str(c.vmac), since,
                             debug=True)

    async def test_result_sent_to_hub_never_answered(self):
        a, b, c = await self.trio()
        for raw in (
            hexb("0000 1F01 01 01 00 0007 0091"),              # NAK to the hub
            hexb("0008 1F02") + a.vmac + hexb("01 01 00 0007 0091") + b"oops",
            hexb("0000 1F03 0C 00"),                           # ACK to the hub
            hexb("0000 1F04 08 01 00 0007 0000"),              # NAK for Disconnect-Request
            hexb("0000 1F05 01"),                              # malformed results
            hexb("0000 1F06 01 05"),
            hexb("0000 1F07 06 01 00 0007"),
        ):
            await a.send(raw)
        # a NAK "for Disconnect-Request" while connected does not disconnect the node
        await self.bystanders_ok(b, c, a)

    async def test_npdu_before_connect_request_dropped(self):
        # Heartbeat-Request first: test_hub.py::ProtocolErrorTest::
        # test_message_before_connect_request_ignored
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        ws, lport = await open_ws(self.hub, node_ctx(2))
        n = Node(ws, bvlc.random_vmac(), bvlc.random_uuid(), lport, "early")
        self.nodes.append(n)
        await n.send(bvlc.npdu(0x2001, b.vmac, NPDU))
        await n.send(bvlc.npdu(0x2002, BROADCAST_VMAC, NPDU))
        await n.send(bvlc.npdu(0x2003, c.vmac, NPDU, orig=n.vmac))
        await n.send(hexb("0D00 2004"))                      # malformed: no NAK either
        await n.send(hexb("0104 2005") + b.vmac)             # PAYLOAD_EXPECTED: no NAK
        await n.send(bvlc.connect_request(0x2006, n.vmac, n.uuid))
        await n.expect(accept_bytes(0x2006), "Connect-Accept after early data")
        await self.bystanders_ok(b, c, n)

    async def test_second_connect_request_dropped(self):
        a, b, c = await self.trio()
        await a.send(bvlc.connect_request(0x2101, a.vmac, a.uuid))        # same identity
        await sync(a, 0x2102)
        other_vmac, other_uuid = bvlc.random_vmac(), bvlc.random_uuid()
        await a.send(bvlc.connect_request(0x2103, other_vmac, other_uuid))  # new identity
        await sync(a, 0x2104)
        # the new VMAC was not registered: unicast to it goes nowhere ...
        await b.send(bvlc.npdu(0x2105, other_vmac, NPDU))
        # ... while a is still reachable under its first VMAC
        await marker(b, a)
        # and the new VMAC can be taken by someone else at once
        d = await self.node(vmac=other_vmac, name="d")
        await marker(d, b)
        await self.bystanders_ok(b, c, a)

    async def test_reserved_vmac_connect_request_refused(self):
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        since = self.hub.mark()
        for i, vm in ((0x2201, BROADCAST_VMAC), (0x2202, UNKNOWN_VMAC)):
            with self.subTest(vmac=bvlc.vmac_str(vm)):
                ws, lport = await open_ws(self.hub, node_ctx(2))
                n = Node(ws, vm, None, lport, "reserved-vmac")
                self.nodes.append(n)
                await n.send(bvlc.connect_request(i, vm, bvlc.random_uuid()))
                got = await expect_nak(n, i, bvlc.CONNECT_REQUEST, bvlc.PARAMETER_OUT_OF_RANGE)
                note(f"reserved VMAC NAK {got.hex()}")
                code = await n.expect_closed()
                self.assertEqual(code, 1000, "close status after the refused Connect-Request")
        await self.bystanders_ok(b, c)
        await self.log_since(r'event=node_disconnected .*reason="reserved VMAC', since)


# =========================================================================================
# Raw WebSocket / HTTP / TLS client
# =========================================================================================

WS_TEXT, WS_BINARY, WS_CLOSE = wsframe.TEXT, wsframe.BINARY, wsframe.CLOSE
WS_PING, WS_PONG, WS_CONT = wsframe.PING, wsframe.PONG, wsframe.CONT


def close_payload(code, reason=b""):
    return code.to_bytes(2, "big") + reason


EOF_ERRORS = (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError, EOFError)


class Raw:
    """A TLS (or plain TCP) stream we write bytes on ourselves."""

    def __init__(self, reader, writer, lport):
        self.reader, self.writer, self.lport = reader, writer, lport
        self.vmac = None

    @classmethod
    async def open(cls, hub, ctx="node", index=0):
        """ctx: "node" (a good node certificate), an SSLContext, or None (plain TCP)."""
        sock = await tcp_connect(hub)
        lport = sock.getsockname()[1]
        if ctx == "node":
            ctx = node_ctx(index)
        kw = {"ssl": ctx, "server_hostname": "127.0.0.1"} if ctx is not None else {}
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(sock=sock, limit=1 << 20, **kw), IO_TIMEOUT)
        except BaseException:
            sock.close()
            raise
        return cls(reader, writer, lport)

    async def write(self, data):
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), IO_TIMEOUT)

    async def read_http_response(self, timeout=IO_TIMEOUT):
        """(status, {lower-case header: value}, body)."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0] + " ")
        if not m:
            raise AssertionError(f"not an HTTP/1.1 status line: {lines[0]!r}")
        headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = b""
        if "content-length" in headers:
            body = await asyncio.wait_for(
                self.reader.readexactly(int(headers["content-length"])), timeout)
        return int(m.group(1)), headers, body

    async def upgrade(self, request=None):
        await self.write(request or upgrade_request())
        status, headers, _ = await self.read_http_response()
        if status != 101:
            raise AssertionError(f"upgrade refused: {status} {headers}")
        return headers

    async def send_frame(self, *a, **kw):
        await self.write(ws_frame(*a, **kw))

    async def send_bvlc(self, data):
        await self.send_frame(WS_BINARY, data)

    send = send_bvlc     # so marker() / sync() take a Raw as sender

    async def read_frame(self, timeout=IO_TIMEOUT):
        """(fin, rsv, opcode, payload), or None at EOF."""
        r = self.reader
        try:
            h = await asyncio.wait_for(r.readexactly(2), timeout)
            n = h[1] & 0x7F
            if n == 126:
                n = int.from_bytes(await asyncio.wait_for(r.readexactly(2), timeout), "big")
            elif n == 127:
                n = int.from_bytes(await asyncio.wait_for(r.readexactly(8), timeout), "big")
            if h[1] & 0x80:
                raise AssertionError("the hub sent a masked frame")
            payload = await asyncio.wait_for(r.readexactly(n), timeout) if n else b""
        except EOF_ERRORS:
            return None
        return bool(h[0] & 0x80), (h[0] >> 4) & 7, h[0] & 0x0F, payload

    async def read_bvlc(self, timeout=IO_TIMEOUT):
        f = await self.read_frame(timeout)
        if f is None:
            raise AssertionError("connection closed, expected a BVLC message")
        if f[2] != WS_BINARY:
            raise AssertionError(f"expected a binary frame, got opcode {f[2]}: {f[3]!r}")
        return f[3]

    async def connect_node(self, vmac=None, msg_id=0x3001):
        self.vmac = vmac or bvlc.random_vmac()
        await self.send_bvlc(bvlc.connect_request(msg_id, self.vmac, bvlc.random_uuid()))
        got = await self.read_bvlc()
        exp = accept_bytes(msg_id)
        if got != exp:
            raise AssertionError(f"expected Connect-Accept, got {bvlc.describe(got)}")

    async def expect_close(self, code, timeout=IO_TIMEOUT, reply=True):
        """The next frame is a Close with this status (None: empty Close body). Returns
        the Close payload. Data frames before it are failures."""
        f = await self.read_frame(timeout)
        if f is None:
            raise AssertionError(f"expected a Close frame ({code}), the connection ended "
                                 f"without one")
        if f[2] != WS_CLOSE:
            raise AssertionError(f"expected a Close frame ({code}), got opcode {f[2]} "
                                 f"{f[3].hex()}")
        got = int.from_bytes(f[3][:2], "big") if len(f[3]) >= 2 else None
        if got != code:
            raise AssertionError(f"expected Close status {code}, got {got} "
                                 f"(payload {f[3]!r})")
        if reply:
            try:
                await self.send_frame(WS_CLOSE, close_payload(code if code else 1000))
            except EOF_ERRORS:
                pass
        return f[3]

    async def expect_eof(self, timeout=IO_TIMEOUT, what="the hub to close TCP"):
        """Nothing but EOF may come (TLS close_notify / FIN / reset)."""
        t0 = time.monotonic()
        try:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"expected {what} within {timeout} s; still open")
        except EOF_ERRORS:
            return time.monotonic() - t0
        if data:
            raise AssertionError(f"expected {what}, got more data: {data[:64]!r}")
        return time.monotonic() - t0

    def close(self):
        try:
            self.writer.transport.abort()
        except Exception:
            pass


class RawCase(BadInputCase):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.raws = []

    async def asyncTearDown(self):
        for r in self.raws:
            r.close()
        await super().asyncTearDown()

    async def raw(self, ctx="node", upgrade=True, connect=False, index=3):
        r = await Raw.open(self.hub, ctx, index)
        self.raws.append(r)
        if upgrade:
            await r.upgrade()
        if connect:
            await r.connect_node()
        return r


# =========================================================================================
# WebSocket
# =========================================================================================

class WebSocketBadInputTest(RawCase):
    """Raw frames from a connected node (Connect-Accept received)."""

    async def _bad_frames(self, frames, code, log=None, reply=True):
        """The hub's next frame is a Close with status `code` (no data frame before it),
        and two bystanders keep exchanging traffic. Returns the raw connection."""
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        r = await self.raw(connect=True)
        since = self.hub.mark()
        await r.write(b"".join(frames))
        await r.expect_close(code, reply=reply)
        if log:
            await self.log_since(log, since)
        await self.bystanders_ok(b, c)
        return r

    async def test_text_frame_close_1003(self):
        r = await self._bad_frames([ws_frame(WS_TEXT, b"hello")], 1003,
                                   log=r'event=ws_message_rejected .*reason="text frame"')
        # after our Close reply: TCP closed, node out of routing, VMAC free again
        await r.expect_eof(3.0, "TCP closed after the Close handshake")
        n, _ = await connect_when_free(self.hub, r.vmac, bvlc.random_uuid(), cert_index=2,
                                       name="vmac-reuser")
        self.nodes.append(n)
        await marker(n, self.nodes[0])

    async def test_text_frame_close_1003_whatever_the_bytes(self):
        # AB.7.5.3: a text frame is non-binary data, whatever its payload. A BVLC-SC message
        # in a text frame is usually not UTF-8 (a Heartbeat-Request with message ID 0xFFFE);
        # the answer is 1003 all the same, never 1007.
        for payload in (bvlc.heartbeat_request(0xFFFE), b"\xff\xfe\xfd", b"\xc3"):
            with self.subTest(payload=payload.hex()):
                await self._bad_frames([ws_frame(WS_TEXT, payload)], 1003,
                                       log=r'event=ws_message_rejected .*reason="text frame"')

    async def test_text_frame_fragmented_close_1003(self):
        await self._bad_frames([ws_frame(WS_TEXT, b"hel", fin=False),
                                ws_frame(WS_CONT, b"lo")], 1003)

    async def test_data_after_client_close_ignored(self):
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        r = await self.raw(connect=True)
        await r.write(ws_frame(WS_CLOSE, close_payload(1000))
                      + ws_frame(WS_BINARY, bvlc.npdu(0x3201, b.vmac, NPDU))
                      + ws_frame(WS_BINARY, bvlc.heartbeat_request(0x3202)))
        await r.expect_close(1000, reply=False)      # the echo; no Heartbeat-ACK before it
        await r.expect_eof(3.0)
        await marker(c, b)                           # b never got the unicast
        await self.bystanders_ok(b, c)

    async def test_data_after_hub_close_not_processed(self):
        # After a text frame the hub fails the connection with Close 1003; RFC 6455 §7.1.7:
        # it must not process that peer's data any more. Regression (hub bug at c2fb182: a
        # unicast sent right after the text frame and one sent after the Close arrived were
        # both forwarded to b, and a Heartbeat-Request in the same read was answered, its
        # ACK even going out before the Close frame).
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        r = await self.raw(connect=True)
        await r.write(ws_frame(WS_TEXT, b"x")
                      + ws_frame(WS_BINARY, bvlc.npdu(0x3101, b.vmac, NPDU))
                      + ws_frame(WS_BINARY, bvlc.heartbeat_request(0x3102)))
        await marker(c, b)       # b's next message must be c's marker, not a's late unicast
        await r.expect_close(1003, reply=False)
        await r.write(ws_frame(WS_BINARY, bvlc.npdu(0x3103, b.vmac, NPDU)))
        await marker(c, b, msg_id=0x7D10)
        await self.bystanders_ok(b, c)

    async def test_fragmented_message_over_64k_close_1009(self):
        part = bytes(30000)
        await self._bad_frames([ws_frame(WS_BINARY, hexb("0104 3301") + part, fin=False),
                                ws_frame(WS_CONT, part, fin=False),
                                ws_frame(WS_CONT, part)], 1009)

    async def test_single_frame_over_64k_close_1009(self):
        await self._bad_frames([ws_frame(WS_BINARY, bytes(65537))], 1009)

    async def test_fragmented_message_within_bounds_reassembled(self):
        # positive control: fragments (with a Ping between them) are one BVLC message
        a = await self.raw(connect=True)
        b = await self.node(name="bystander-b")
        raw = bvlc.npdu(0x3401, b.vmac, NPDU)
        await a.write(ws_frame(WS_BINARY, raw[:5], fin=False) + ws_frame(WS_PING, b"p")
                      + ws_frame(WS_CONT, raw[5:12], fin=False) + ws_frame(WS_CONT, raw[12:]))
        f = await a.read_frame()
        self.assertEqual((f[2], f[3]), (WS_PONG, b"p"), "Pong for the Ping")
        await b.expect(bvlc.hub_unicast_rewrite(raw, a.vmac), "reassembled unicast")
        # exactly 64 KiB (the bound itself): dropped as > max BVLC, connection kept
        await a.send_bvlc(bvlc.npdu(0x3402, b.vmac, bytes([1, 0]) + bytes(65536 - 12)))
        await a.send_bvlc(bvlc.heartbeat_request(0x3403))
        self.assertEqual(await a.read_bvlc(), bvlc.heartbeat_ack(0x3403))
        await marker(a, b)

    async def test_unmasked_client_frame_close_1002(self):
        await self._bad_frames([ws_frame(WS_BINARY, bvlc.heartbeat_request(0x3501),
                                         mask=False)], 1002)

    async def test_reserved_bits_close_1002(self):
        for rsv in (4, 2, 1):
            with self.subTest(rsv=rsv):
                await self._bad_frames([ws_frame(WS_BINARY, bvlc.heartbeat_request(0x3601),
                                                 rsv=rsv)], 1002)

    async def test_reserved_opcodes_close_1002(self):
        for op in (0x3, 0x7, 0xB, 0xF):
            with self.subTest(opcode=op):
                await self._bad_frames([ws_frame(op, b"\x00\x01")], 1002)

    async def test_broken_fragmentation_close_1002(self):
        hb = bvlc.heartbeat_request(0x3701)
        for label, frames in (
                ("continuation without a start", [ws_frame(WS_CONT, hb)]),
                ("new data frame inside a fragmented message",
                 [ws_frame(WS_BINARY, hb[:2], fin=False), ws_frame(WS_BINARY, hb)])):
            with self.subTest(case=label):
                await self._bad_frames(frames, 1002)

    async def test_control_frame_over_125_closed(self):
        # The status code is wrong (see test_control_frame_over_125_close_status); checked
        # here: a Close frame comes, the connection ends, bystanders are fine.
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        for frame in (ws_frame(WS_PING, bytes(126)), ws_frame(WS_PING, b"x", fin=False)):
            r = await self.raw(connect=True)
            await r.write(frame)
            f = await r.read_frame()
            self.assertIsNotNone(f, "no Close frame before TCP close")
            self.assertEqual(f[2], WS_CLOSE, f"expected a Close frame, got {f}")
            note(f"control frame {frame[:2].hex()}: Close payload {f[3]!r}")
            await r.expect_eof(3.0)
        await self.bystanders_ok(b, c)

    async def test_control_frame_over_125_close_status(self):
        # A control frame longer than 125 octets (Ping of 126) and a fragmented control frame
        # (Ping without FIN) get Close 1002 (wslay alone would send a Close without status:
        # the hub refuses these frames before wslay sees them).
        for frame in (ws_frame(WS_PING, bytes(126)), ws_frame(WS_PING, b"x", fin=False)):
            with self.subTest(frame=frame[:2].hex()):
                await self._bad_frames([frame], 1002, reply=False)

    async def test_bad_close_code_answered_1002(self):
        for code in (999, 1004, 1005, 1006, 1015, 2999, 5000):
            with self.subTest(code=code):
                await self._bad_frames([ws_frame(WS_CLOSE, close_payload(code))], 1002,
                                       reply=False)

    async def test_close_one_octet_body_1002(self):
        # A Close frame whose body is 1 octet (RFC 6455 §5.5.1: a body, if any, starts with a
        # 2-octet status) is a protocol error: Close 1002, not an echo without status.
        await self._bad_frames([ws_frame(WS_CLOSE, b"\x03")], 1002, reply=False)

    async def test_close_reason_not_utf8_1007(self):
        await self._bad_frames([ws_frame(WS_CLOSE, close_payload(1000, b"\xff\xfe"))], 1007,
                               reply=False)

    async def test_protocol_error_ends_connection(self):
        # When the hub fails the WebSocket (1002 / 1007 / 1009 from wslay, 1003 for text),
        # TCP ends within the hub's 2 s close linger of its Close (at once when the peer's
        # Close arrives) and the node leaves routing at once (its VMAC is free).
        # Regression (hub bug at c2fb182: for the wslay-detected errors wslay_event_recv
        # queued the Close, disabled reading and returned 0, so Connection::
        # advance_websocket did nothing: no log, no ws_rejected, no linger, node kept in
        # routing; TCP stayed open until connect-wait / liveness and the VMAC stayed taken.
        # The text-frame path had no linger when the peer did not answer.)
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        cases = [
            ("unmasked frame, Close answered",
             ws_frame(WS_BINARY, bvlc.heartbeat_request(1), mask=False), 1002, True),
            ("RSV1, Close not answered", ws_frame(WS_BINARY, b"\x0a\x00\x00\x01", rsv=4),
             1002, False),
            ("close code 999", ws_frame(WS_CLOSE, close_payload(999)), 1002, False),
            ("Close reason not UTF-8", ws_frame(WS_CLOSE, close_payload(1000, b"\xff")),
             1007, False),
            ("71 KiB fragmented, Close answered",
             ws_frame(WS_BINARY, bytes(40000), fin=False) + ws_frame(WS_CONT, bytes(33000)),
             1009, True),
            ("text frame, Close not answered", ws_frame(WS_TEXT, b"x"), 1003, False),
        ]
        raws = []
        for i, (label, frame, code, reply) in enumerate(cases):
            r = await self.raw(connect=True, index=i)
            await r.write(frame)
            await r.expect_close(code, reply=reply)
            raws.append(r)
        results = await asyncio.gather(*(r.expect_eof(3.5) for r in raws),
                                       return_exceptions=True)
        # the first node's VMAC must be free for someone else
        try:
            n, _ = await connect_when_free(self.hub, raws[0].vmac, bvlc.random_uuid(),
                                           within=1.0, cert_index=2, name="vmac-reuser")
            self.nodes.append(n)
            reuse = "VMAC free"
        except AssertionError as exc:
            reuse = f"VMAC still taken: {str(exc).splitlines()[0]}"
        report = [f"{label}: " + ("closed" if not isinstance(res, BaseException)
                                  else f"NOT closed ({res})")
                  for (label, *_), res in zip(cases, results)]
        note("; ".join(report) + "; " + reuse)
        await self.bystanders_ok(b, c)
        self.assertFalse(any(isinstance(res, BaseException) for res in results),
                         "\n".join(report))
        self.assertEqual(reuse, "VMAC free")


# =========================================================================================
# HTTP upgrade
# =========================================================================================

class UpgradeBadInputTest(RawCase):
    HUB_ARGS = ("--handshake-timeout", "2")

    async def _refused(self, request, status, reason_re=None, header=None):
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        r = await self.raw(upgrade=False)
        since = self.hub.mark()
        await r.write(request)
        got, headers, body = await r.read_http_response()
        self.assertEqual(got, status, f"HTTP status (body {body!r})")
        self.assertEqual(headers.get("connection", "").lower(), "close")
        self.assertNotIn("sec-websocket-accept", headers)
        if header:
            self.assertEqual(headers.get(header[0].lower()), header[1], f"header {header[0]}")
        await r.expect_eof(3.0, "TCP closed after the refusal")
        line = await self.log_since(rf"event=upgrade_refused .*status={status}\b", since)
        if reason_re:
            self.assertRegex(line, reason_re)
        await self.bystanders_ok(b, c)
        return body

    async def test_wrong_version_426(self):
        for v in ("8", "14", None):
            with self.subTest(version=v):
                await self._refused(upgrade_request(version=v), 426,
                                    header=("Sec-WebSocket-Version", "13"))

    async def test_bad_key_400(self):
        for key in ("!!!!not-base64!!!!", "AAAAAAAAAAAAAAAAAAAA", "", None):
            # the last-but-one is 15 octets; "" and None: empty / missing
            with self.subTest(key=key):
                await self._refused(upgrade_request(key=key), 400, r"Sec-WebSocket-Key")

    async def test_missing_upgrade_or_connection_400(self):
        await self._refused(upgrade_request(upgrade=None), 400, r"Upgrade")
        await self._refused(upgrade_request(connection="keep-alive"), 400, r"Connection")

    async def test_oversized_header_block_431(self):
        big = "X-Filler: " + "a" * 10000 + "\r\n"
        await self._refused(upgrade_request(extra=big), 431)
        # a head that never ends is cut at the bound too
        await self._refused(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: a\r\n" * 1500, 431)

    async def test_request_line_garbage_400(self):
        for req in (b"HELLO WORLD\r\n\r\n", b"\x00\x01\x02\xff\r\n\r\n",
                    b"GET / HTTP/1.1 extra\r\n\r\n"):
            with self.subTest(req=req):
                await self._refused(req, 400)

    async def test_http_10_400(self):
        await self._refused(upgrade_request(http="HTTP/1.0"), 400, r"HTTP/1\.1")

    async def test_non_get_405(self):
        for method in ("POST", "PUT", "HEAD"):
            with self.subTest(method=method):
                await self._refused(upgrade_request(method=method), 405,
                                    header=("Allow", "GET"))

    async def test_slow_header_closed_at_handshake_timeout(self):
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        since = self.hub.mark()
        stall = await self.raw(upgrade=False)
        drip = await self.raw(upgrade=False)
        tls_stall = await self.raw(ctx=None, upgrade=False)
        t0 = time.monotonic()
        await stall.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr")
        # TLS: a handshake record that announces 512 octets and carries 16
        await tls_stall.write(hexb("16 0301 0200") + bytes(16))

        async def dripper():
            for ch in upgrade_request()[:-2]:
                try:
                    await drip.write(bytes([ch]))
                except EOF_ERRORS:
                    return
                await asyncio.sleep(0.1)

        task = asyncio.create_task(dripper())
        try:
            # meanwhile the bystanders are served
            await self.bystanders_ok(b, c)
            await asyncio.gather(*(r.expect_eof(5.0, "close at the deadline")
                                   for r in (stall, drip, tls_stall)))
        finally:
            task.cancel()
        elapsed = time.monotonic() - t0
        note(f"slow header closed after {elapsed:.2f} s")
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 3.5)
        lines = await self.wait_logs(r"event=handshake_timeout .*phase=upgrade", 2, since)
        self.assertEqual(len(lines), 2, f"expected two upgrade-phase timeouts: {lines}")
        lines = await self.wait_logs(r"event=handshake_timeout .*phase=tls", 1, since)
        self.assertEqual(len(lines), 1, f"expected one TLS-phase timeout: {lines}")
        await self.bystanders_ok(b, c)

    async def test_upgrade_and_first_frame_in_one_write(self):
        # positive control: bytes after the request head are WebSocket data
        r = await self.raw(upgrade=False)
        vm = bvlc.random_vmac()
        await r.write(upgrade_request() + ws_frame(WS_BINARY, bvlc.connect_request(
            0x4001, vm, bvlc.random_uuid())))
        status, _, _ = await r.read_http_response()
        self.assertEqual(status, 101)
        self.assertEqual(await r.read_bvlc(), accept_bytes(0x4001))


# =========================================================================================
# TLS
# =========================================================================================

class TlsBadInputTest(RawCase):
    """Each refusal: no HTTP answer, TCP closed, `event=tls_handshake_failed peer=...
    reason="..."` naming the cause."""

    async def _refused(self, ctx, reason_re, label):
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        since = self.hub.mark()
        seen = None
        try:
            r = await Raw.open(self.hub, ctx)
            self.raws.append(r)
            await r.write(upgrade_request())
            data = await asyncio.wait_for(r.reader.read(4096), IO_TIMEOUT)
            if data.startswith(b"HTTP/1.1 101"):
                self.fail(f"{label}: the hub upgraded the connection")
            seen = f"read {data!r}"
            self.assertEqual(data, b"", f"{label}: expected the connection to end")
        except asyncio.TimeoutError:
            self.fail(f"{label}: neither refused nor answered within {IO_TIMEOUT} s")
        except EOF_ERRORS as exc:
            seen = f"{type(exc).__name__}: {exc}"
        line = await self.log_since(r"event=tls_handshake_failed ", since)
        reason = re.search(r'reason="([^"]*)"', line)
        self.assertIsNotNone(reason, f"{label}: no reason in {line!r}")
        note(f"{label}: client saw {seen}; hub reason=\"{reason.group(1)}\"")
        self.assertRegex(reason.group(1), reason_re, f"{label}: reason not specific")
        await self.bystanders_ok(b, c)
        return reason.group(1)

    async def test_refusal_reasons_are_specific(self):
        # the refusals themselves: test_hub.py::RefusalTest::test_tls12_only_client_refused,
        # test_no_client_certificate_refused, test_foreign_ca_client_refused,
        # test_expired_client_cert_refused, test_not_yet_valid_client_cert_refused
        pki = nodes.PKI
        cert, key = pki.node(0)
        cases = [
            ("TLS 1.2-only client",
             client_ctx(cert, key, max_version=ssl.TLSVersion.TLSv1_2), r"TLS 1\.3"),
            ("no client certificate", client_ctx(), r"(?i)no client certificate"),
            ("foreign CA", client_ctx(pki.foreign_node_cert, pki.foreign_node_key),
             r"(?i)certificate rejected: .*(trusted|CA)"),
        ]
        if pki.expired_node_cert:
            cases.append(("expired", client_ctx(pki.expired_node_cert, pki.expired_node_key),
                          r"(?i)certificate rejected: .*expired"))
        if pki.future_node_cert:
            cases.append(("not yet valid", client_ctx(pki.future_node_cert,
                                                      pki.future_node_key),
                          r"(?i)certificate rejected: .*future"))
        for label, ctx, rx in cases:
            with self.subTest(case=label):
                await self._refused(ctx, rx, label)

    async def test_wrong_eku_server_auth_only(self):
        cert, key = EXTRA["server_only_eku"]
        await self._refused(client_ctx(cert, key), r"(?i)certificate rejected: .*Usage",
                            "EKU serverAuth only")

    async def test_self_signed_client_cert(self):
        cert, key = EXTRA["self_signed"]
        await self._refused(client_ctx(cert, key),
                            r"(?i)certificate rejected: .*(trusted|CA)", "self-signed")

    async def _garbage(self, data, reason_re, label):
        b = await self.node(name="bystander-b")
        c = await self.node(name="bystander-c")
        since = self.hub.mark()
        r = await self.raw(ctx=None, upgrade=False)
        t0 = time.monotonic()
        await r.write(data)
        got = b""
        try:
            while True:
                chunk = await asyncio.wait_for(r.reader.read(4096), IO_TIMEOUT)
                if not chunk:
                    break
                got += chunk
        except asyncio.TimeoutError:
            self.fail(f"{label}: connection still open after {IO_TIMEOUT} s "
                      f"(received {got!r})")
        except EOF_ERRORS:
            pass
        elapsed = time.monotonic() - t0
        self.assertNotIn(b"HTTP/", got, f"{label}: the hub answered in clear HTTP")
        line = await self.log_since(r"event=tls_handshake_failed ", since)
        reason = re.search(r'reason="([^"]*)"', line).group(1)
        note(f"{label}: hub sent {got.hex() or 'nothing'} then closed after "
             f"{elapsed:.2f} s; reason=\"{reason}\"")
        self.assertLess(elapsed, 2.0, f"{label}: not refused at once")
        self.assertRegex(reason, reason_re)
        await self.bystanders_ok(b, c)
        return got

    async def test_random_bytes_instead_of_client_hello(self):
        # first octet 0x99 is no TLS content type
        await self._garbage(b"\x99" + os.urandom(299), r"(?i)(record|SSL|TLS|invalid|bad)",
                            "random bytes")

    async def test_garbage_client_hello_records(self):
        # well-framed handshake records (lengths consistent) whose content is garbage
        body = bytes(range(7, 67))
        for label, msg, rx in (
                ("ClientHello with garbage body", b"\x01" + len(body).to_bytes(3, "big") + body,
                 r"(?i)(TLS 1\.3|decode|bad|invalid|hello)"),
                ("ServerHello sent to the hub", b"\x02" + len(body).to_bytes(3, "big") + body,
                 r"(?i)unexpected message"),
        ):
            with self.subTest(case=label):
                await self._garbage(hexb("16 0301") + len(msg).to_bytes(2, "big") + msg, rx,
                                    label)

    async def test_http_request_in_clear(self):
        await self._garbage(upgrade_request(), r"(?i)(record|SSL|TLS|invalid|bad)",
                            "HTTP in clear")


# =========================================================================================
# Counters in the event=stopped line
# =========================================================================================

class CountersTest(RawCase):
    """One of each counted bad input on a fresh hub, then SIGTERM: the event=stopped line
    must carry exactly these counts."""
    HUB_ARGS = ("--handshake-timeout", "1")

    def tearDown(self):
        pass   # this test stops the hub itself

    async def test_stopped_line_counts_bad_input(self):
        a, b, c = await self.trio()
        # drop_oversize: one 6001-octet unicast
        await a.send(bvlc.npdu(0x5001, b.vmac, bytes([1, 0]) + bytes(HUB_MAX_BVLC - 12)))
        # drop_spoofed_origin: one
        await a.send(bvlc.npdu(0x5002, b.vmac, NPDU, orig=c.vmac))
        # drop_unknown_dest: the hub's own VMAC
        await a.send(bvlc.npdu(0x5003, HUB_VMAC, NPDU))
        # malformed + naks_sent: one unknown function (NAK), one bad broadcast (no NAK)
        await a.send(hexb("0D00 5004"))
        await expect_nak(a, 0x5004, 0x0D, bvlc.BVLC_FUNCTION_UNKNOWN)
        await a.send(hexb("0104 5005") + BROADCAST_VMAC)
        await self.bystanders_ok(b, c, a)
        # drop_not_connected: one NPDU before Connect-Request
        early = await self.raw()
        await early.send_bvlc(bvlc.npdu(0x5006, b.vmac, NPDU))
        await early.connect_node(msg_id=0x5007)
        # ws_rejected: one text frame, one message over 64 KiB
        t = await self.raw(connect=True)
        await t.send_frame(WS_TEXT, b"x")
        await t.expect_close(1003)
        await t.expect_eof(3.0)
        t = await self.raw(connect=True)
        await t.send_frame(WS_BINARY, bytes(65537))
        await t.expect_close(1009)
        await t.expect_eof(3.0)
        # upgrade_refused: one
        u = await self.raw(upgrade=False)
        await u.write(upgrade_request(version="8"))
        self.assertEqual((await u.read_http_response())[0], 426)
        # tls_handshake_failed: one (no client certificate)
        try:
            v = await Raw.open(self.hub, client_ctx())
            self.raws.append(v)
            await v.write(upgrade_request())
            await asyncio.wait_for(v.reader.read(100), IO_TIMEOUT)
        except EOF_ERRORS:
            pass
        # handshake_timeouts: one silent TCP connection
        w = await self.raw(ctx=None, upgrade=False)
        await w.expect_eof(3.0)
        await self.bystanders_ok(b, c, a)
        # stop and read the totals
        mark = self.hub.mark()
        rc = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.hub.stop(signal.SIGTERM, timeout=5.0, check=False))
        self.assertEqual(rc, 0, self.hub.stderr_tail())
        line = self.hub.wait_for_log(r"event=stopped", since=mark, timeout=1.0)
        self.assertIsNotNone(line, self.hub.stderr_tail())
        note(line.strip())
        got = dict(re.findall(r"\b(\w+)=(\d+)\b", line))
        expected = {
            "drop_oversize": 1, "drop_spoofed_origin": 1, "drop_unknown_dest": 1,
            "drop_not_connected": 1, "malformed": 2, "naks_sent": 1, "ws_rejected": 2,
            "upgrade_refused": 1, "tls_handshake_failed": 1, "handshake_timeouts": 1,
        }
        for k, v in expected.items():
            with self.subTest(counter=k):
                self.assertEqual(int(got.get(k, 0)), v, f"{k} in {line.strip()}")


if __name__ == "__main__":
    hubproc.main()

#!/usr/bin/python3
"""The connection history over real TLS: the device's Network Port lists
SC_Hub_Function_Connection_Status (connected and departed nodes) and
SC_Failed_Connection_Requests (refusals), decoded with the test library's own decoder
(lib/bacnet.py, not the hub's codec); /status and bschub-ctl status show the same entries;
--history-size and --history-age bound them.

    BSCHUB=build/bschub BSCHUB_CTL=build/bschub-ctl /usr/bin/python3 \\
        tests/integration/test_device_history.py -v
"""

import asyncio
import json
import subprocess
import time
import unittest

from lib import bacnet, bvlc, hubproc, nodes
from lib import bacnet_segments as seg
from lib.bvlc import Message
from lib.metrics import http_request
from lib.nodes import HUB_VMAC, HubTestCase, client_ctx, open_ws

INSTANCE = 4000
POLL = 5.0  # how long a change may take to show (the worker publishes once per iteration)
LOCALHOST = bytes([127, 0, 0, 1])
TLS_CLIENT_CERTIFICATE_ERROR = 180
WEBSOCKET_CLOSED_ABNORMALLY = 173
NODE_DUPLICATE_VMAC = 151
PROPERTY_IS_NOT_AN_ARRAY = 50


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


class HistoryCase(HubTestCase):
    HUB_ARGS = ("--workers", "2", "--device-instance", str(INSTANCE))

    @classmethod
    def make_hub(cls):
        return nodes.start_hub(*cls.HUB_ARGS, metrics=True)

    async def read_raw(self, node, prop, index=None, invoke=1):
        """ReadProperty of the Network Port: (pdu_type, error or None, value octets)."""
        await node.send(bvlc.npdu(0x4400 + invoke, HUB_VMAC,
                                  bacnet.read_property(invoke, bacnet.NETWORK_PORT, 1, prop,
                                                       index)))
        got = await node.recv(what="the device's answer")
        m = Message.decode(got)
        self.assertEqual((m.function, m.orig), (bvlc.ENCAPSULATED_NPDU, HUB_VMAC))
        apdu = bacnet.decode_apdu(bacnet.decode_npdu(m.payload).apdu)
        if apdu.pdu_type != bacnet.PDU_COMPLEX_ACK:
            return apdu.pdu_type, apdu.error, None
        obj, got_prop, _, value = bacnet.decode_read_property_ack_raw(apdu)
        self.assertEqual((obj, got_prop), ((bacnet.NETWORK_PORT, 1), prop))
        return apdu.pdu_type, None, value

    async def connections(self, node):
        _, _, raw = await self.read_raw(node, bacnet.SC_HUB_FUNCTION_CONNECTION_STATUS)
        return bacnet.decode_sc_hub_function_connections(raw)

    async def failed(self, node):
        _, _, raw = await self.read_raw(node, bacnet.SC_FAILED_CONNECTION_REQUESTS, invoke=2)
        return bacnet.decode_sc_failed_connection_requests(raw)

    async def poll(self, read, ok, what):
        """read() until ok(value) or POLL seconds passed; returns the last value."""
        deadline = time.monotonic() + POLL
        while True:
            value = await read()
            if ok(value) or time.monotonic() > deadline:
                self.assertTrue(ok(value), f"{what}: {value}")
                return value
            await asyncio.sleep(0.05)

    async def status(self):
        loop = asyncio.get_running_loop()
        code, _, body = await loop.run_in_executor(
            None, lambda: http_request(self.hub.metrics_port, "/status"))
        self.assertEqual(code, 200)
        return json.loads(body)

    async def ctl_status(self):
        loop = asyncio.get_running_loop()
        p = await loop.run_in_executor(None, lambda: subprocess.run(
            [hubproc.ctl_binary(), "status", "--metrics", str(self.hub.metrics_port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30))
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    async def refuse_duplicate(self, vmac, msg_id=0x6100):
        """A Connect-Request for `vmac` with a fresh UUID: NAKed as duplicate. Returns the UUID."""
        uuid = bvlc.random_uuid()
        ws, _ = await nodes.handshake(self.hub, vmac, uuid, msg_id, nodes.node_ctx(3))
        node = nodes.Node(ws, vmac, uuid, None, "duplicate")
        await nodes.expect_nak(node, msg_id, bvlc.CONNECT_REQUEST, bvlc.NODE_DUPLICATE_VMAC)
        await node.close()
        return uuid

    async def refuse_foreign_certificate(self):
        pki = nodes.PKI
        try:
            ws, _ = await open_ws(self.hub, client_ctx(pki.foreign_node_cert,
                                                       pki.foreign_node_key))
        except Exception:
            return  # refused, as it must be
        await nodes.Node(ws, None, None, None).close()
        self.fail("a certificate from another CA was accepted")


class ListsTest(HistoryCase):

    async def test_connected_departed_and_failed_in_the_lists_status_and_ctl(self):
        reader, b, c = await self.nodes_n(3)
        aborted = await self.node()
        leaver = await self.node()
        # One leaves abruptly (TCP cut, no Close), one with Disconnect-Request/ACK.
        aborted.abort()
        await leaver.send(bvlc.disconnect_request(0x2222))
        await leaver.expect(bvlc.disconnect_ack(0x2222), "Disconnect-ACK")
        await leaver.expect_closed()
        dup_uuid = await self.refuse_duplicate(b.vmac)
        await self.refuse_foreign_certificate()

        def settled(entries):
            return len(entries) == 5 and sum(e.state != bacnet.SC_CONNECTED for e in entries) == 2
        entries = await self.poll(lambda: self.connections(reader), settled, "connection list")
        by_vmac = {e.vmac: e for e in entries}
        for n in (reader, b, c):
            e = by_vmac[n.vmac]
            self.assertEqual((e.state, e.uuid, e.error, e.details),
                             (bacnet.SC_CONNECTED, n.uuid, None, None))
            self.assertEqual(e.peer, bacnet.HostNPort(LOCALHOST, None, n.lport))
            self.assertEqual(e.disconnect, bacnet.UNSPECIFIED_DATE_TIME)
            self.assertNotEqual(e.connect, bacnet.UNSPECIFIED_DATE_TIME)
            self.assertEqual(e.connect[0][0], time.localtime().tm_year - 1900)
        gone = by_vmac[aborted.vmac]
        self.assertEqual(gone.state, bacnet.SC_DISCONNECTED_WITH_ERRORS)
        self.assertEqual(gone.error, (bacnet.ERROR_CLASS_COMMUNICATION,
                                      WEBSOCKET_CLOSED_ABNORMALLY))
        self.assertTrue(gone.details)
        self.assertNotEqual(gone.disconnect, bacnet.UNSPECIFIED_DATE_TIME)
        self.assertEqual(gone.peer, bacnet.HostNPort(LOCALHOST, None, aborted.lport))
        left = by_vmac[leaver.vmac]
        self.assertEqual((left.state, left.uuid, left.error, left.details),
                         (bacnet.SC_NOT_CONNECTED, leaver.uuid, None, None))
        self.assertNotEqual(left.disconnect, bacnet.UNSPECIFIED_DATE_TIME)
        # Connected first, then the departed.
        self.assertEqual([e.state for e in entries][3:].count(bacnet.SC_CONNECTED), 0)

        failed = await self.poll(lambda: self.failed(reader), lambda f: len(f) == 2,
                                 "failed list")
        codes = {f.error[1]: f for f in failed}
        dup = codes[NODE_DUPLICATE_VMAC]
        self.assertEqual((dup.vmac, dup.uuid, dup.error[0], dup.peer.ip),
                         (b.vmac, dup_uuid, bacnet.ERROR_CLASS_COMMUNICATION, LOCALHOST))
        tls = codes[TLS_CLIENT_CERTIFICATE_ERROR]
        self.assertEqual((tls.vmac, tls.uuid, tls.peer.ip), (None, None, LOCALHOST))
        self.assertTrue(tls.details)

        # A list takes no array index.
        pdu, error, _ = await self.read_raw(reader, bacnet.SC_HUB_FUNCTION_CONNECTION_STATUS, 0)
        self.assertEqual((pdu, error), (bacnet.PDU_ERROR, (bacnet.ERROR_CLASS_PROPERTY,
                                                          PROPERTY_IS_NOT_AN_ARRAY)))
        # RPM ALL of the port has both lists, with the same entries.
        await reader.send(bvlc.npdu(0x4500, HUB_VMAC, bacnet.read_property_multiple(
            9, [(bacnet.NETWORK_PORT, 1, [bacnet.PROP_ALL])])))
        m = Message.decode(await reader.recv(what="RPM ACK"))
        [(_, results)] = bacnet.decode_rpm_ack(bacnet.decode_apdu(
            bacnet.decode_npdu(m.payload).apdu))
        raw = {r.prop: r.raw for r in results}
        self.assertEqual(bacnet.decode_sc_hub_function_connections(
            raw[bacnet.SC_HUB_FUNCTION_CONNECTION_STATUS]), entries)
        self.assertEqual(bacnet.decode_sc_failed_connection_requests(
            raw[bacnet.SC_FAILED_CONNECTION_REQUESTS]), failed)

        # /status shows the same entries, readable.
        history = (await self.status())["history"]
        shown = {c["vmac"]: c for c in history["connections"]}
        self.assertEqual(len(shown), 5)
        for n in (reader, b, c):
            self.assertEqual(shown[bvlc.vmac_str(n.vmac)]["state"], "connected")
            self.assertEqual(shown[bvlc.vmac_str(n.vmac)]["peer_address"], f"127.0.0.1:{n.lport}")
            self.assertIsNone(shown[bvlc.vmac_str(n.vmac)]["disconnect_time"])
        s = shown[bvlc.vmac_str(aborted.vmac)]
        self.assertEqual((s["state"], s["error"], s["error_class"], s["error_code"]),
                         ("disconnected-with-errors", "websocket-closed-abnormally", 7, 173))
        self.assertEqual(s["uuid"], bvlc.uuid_str(aborted.uuid))
        s = shown[bvlc.vmac_str(leaver.vmac)]
        self.assertEqual(s["state"], "not-connected")
        self.assertNotIn("error", s)
        self.assertTrue(s["disconnect_time"].endswith("Z"))
        fails = {f["error"]: f for f in history["failed_requests"]}
        self.assertEqual(fails["node-duplicate-vmac"]["vmac"], bvlc.vmac_str(b.vmac))
        self.assertEqual(fails["node-duplicate-vmac"]["uuid"], bvlc.uuid_str(dup_uuid))
        self.assertIsNone(fails["tls-client-certificate-error"]["vmac"])

        # bschub-ctl status prints them as tables.
        out = await self.ctl_status()
        self.assertIn("connection history (5)", out)
        self.assertIn("failed connection requests (2)", out)
        for n in (aborted, leaver):
            self.assertIn(bvlc.vmac_str(n.vmac), out)
        self.assertIn("disconnected-with-errors", out)
        self.assertIn("websocket-closed-abnormally (7/173)", out)
        self.assertIn("node-duplicate-vmac (7/151)", out)
        self.assertIn("tls-client-certificate-error (7/180)", out)


class BoundsTest(HistoryCase):
    # One worker: the per-worker bound is the whole bound.
    HUB_ARGS = ("--workers", "1", "--device-instance", str(INSTANCE), "--history-size", "2",
                "--history-age", "2")

    async def test_size_and_age_bounds(self):
        reader = await self.node()
        left = []
        for i in range(4):
            n = await nodes.connect_node(self.hub, cert_index=1, name=f"leaver{i}")
            await n.send(bvlc.disconnect_request(0x3000 + i))
            await n.expect(bvlc.disconnect_ack(0x3000 + i), "Disconnect-ACK")
            await n.expect_closed()
            left.append(n.vmac)
        for i in range(3):
            await self.refuse_duplicate(reader.vmac, 0x6200 + i)

        # Only the newest two departed and two failed entries are kept.
        entries = await self.poll(lambda: self.connections(reader),
                                  lambda e: [x.vmac for x in e] == [reader.vmac] + left[2:],
                                  "the two newest departed")
        self.assertEqual([e.state for e in entries],
                         [bacnet.SC_CONNECTED, bacnet.SC_NOT_CONNECTED, bacnet.SC_NOT_CONNECTED])
        failed = await self.failed(reader)
        self.assertEqual(len(failed), 2)

        # After --history-age they are gone (no new event needed); connected nodes stay.
        await asyncio.sleep(2.2)
        entries = await self.poll(lambda: self.connections(reader),
                                  lambda e: [x.vmac for x in e] == [reader.vmac], "aged out")
        self.assertEqual(await self.failed(reader), [])
        history = (await self.status())["history"]
        self.assertEqual([c["vmac"] for c in history["connections"]], [bvlc.vmac_str(reader.vmac)])
        self.assertEqual(history["failed_requests"], [])



class LargeListTest(HistoryCase):
    """300 connected nodes: the connection list is about 19 KB, far above one APDU."""
    HUB_ARGS = ("--workers", "2", "--device-instance", str(INSTANCE), "--source-rate", "0")
    NODES = 300

    async def connect_many(self):
        for first in range(0, self.NODES, 25):  # 25 handshakes at a time
            batch = await asyncio.gather(*(nodes.connect_node(
                self.hub, cert_index=i, name=f"n{i}") for i in range(first, first + 25)))
            self.nodes.extend(batch)
        return self.nodes

    def read_list(self, invoke, accepted):
        data = bacnet.read_property(invoke, bacnet.NETWORK_PORT, 1,
                                    bacnet.SC_HUB_FUNCTION_CONNECTION_STATUS)[6:]
        return seg.confirmed_segmented(invoke, bacnet.SERVICE_READ_PROPERTY, data,
                                       bacnet.MAX_APDU_1476, seg.MAX_SEGMENTS_MORE, accepted)

    async def test_segmented_to_a_requester_that_takes_segments_abort_to_one_that_does_not(self):
        many = await self.connect_many()
        vmacs = sorted(n.vmac for n in many)
        requester = seg.SegmentedRequester(many[0], HUB_VMAC, window=8, timeout=10.0)

        async def read_all():
            apdu = await requester.request_when_free(self.read_list(1, True))
            self.assertEqual(apdu.pdu_type, bacnet.PDU_COMPLEX_ACK)
            _, _, _, raw = bacnet.decode_read_property_ack_raw(apdu)
            return bacnet.decode_sc_hub_function_connections(raw)

        entries = await self.poll(read_all, lambda e: len(e) == self.NODES, "300 connected")
        self.assertGreater(len(requester.transcript.segments), 10)
        # Connected nodes come sorted by VMAC, each with its UUID, all connected.
        self.assertEqual([e.vmac for e in entries], vmacs)
        uuids = {n.vmac: n.uuid for n in many}
        self.assertTrue(all(e.state == bacnet.SC_CONNECTED and e.uuid == uuids[e.vmac]
                            and e.peer.ip == LOCALHOST for e in entries))
        # Without segments accepted: the Abort clients fall back on (segmentation-not-supported).
        apdu = await seg.SegmentedRequester(many[1], HUB_VMAC).request(self.read_list(2, False))
        self.assertEqual((apdu.pdu_type, apdu.invoke, apdu.reason),
                         (bacnet.PDU_ABORT, 2, bacnet.ABORT_SEGMENTATION_NOT_SUPPORTED))


if __name__ == "__main__":
    unittest.main()

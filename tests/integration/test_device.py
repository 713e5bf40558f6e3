#!/usr/bin/python3
"""The hub as a BACnet device (--device-instance), over real TLS: nodes discover it with
Who-Is and read its Device and Network Port objects through the hub, and every answer is
checked with the test library's own BACnet decoder (lib/bacnet.py), not the hub's codec.
A hub without --device-instance still drops what is sent to its VMAC.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_device.py -v
"""

import asyncio
import os
import subprocess
import tempfile
import unittest

from lib import bacnet, bvlc, hubproc, nodes
from lib.bvlc import BROADCAST_VMAC, Message
from lib.nodes import HUB_UUID, HUB_VMAC, HubTestCase, expect_nak, handshake, node_ctx

INSTANCE = 4000
DEVICE_ARGS = ("--workers", "2", "--device-instance", str(INSTANCE), "--device-name", "Hubster",
               "--vendor-identifier", "260", "--network-number", "7", "--location", "lab 3")


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


class DeviceCase(HubTestCase):
    HUB_ARGS = DEVICE_ARGS

    async def ask(self, node, npdu, msg_id=0x4400):
        """Sends `npdu` to the hub's VMAC and returns the decoded APDU of the answer, which
        must come from the hub's VMAC, unicast (no destination), as an Encapsulated-NPDU."""
        await node.send(bvlc.npdu(msg_id, HUB_VMAC, npdu))
        got = await node.recv(what="the device's answer")
        m = Message.decode(got)
        self.assertEqual((m.function, m.orig, m.dest), (bvlc.ENCAPSULATED_NPDU, HUB_VMAC, None),
                         bvlc.describe(got))
        n = bacnet.decode_npdu(m.payload)
        self.assertIsNone(n.dnet)
        return n, bacnet.decode_apdu(n.apdu)

    async def read(self, node, obj_type, instance, prop, index=None, invoke=1):
        _, apdu = await self.ask(node, bacnet.read_property(invoke, obj_type, instance, prop,
                                                            index))
        self.assertEqual(apdu.invoke, invoke)
        obj, got_prop, got_index, values = bacnet.decode_read_property_ack(apdu)
        self.assertEqual((got_prop, got_index), (prop, index))
        return obj, values


class DiscoveryTest(DeviceCase):

    async def test_who_is_gets_an_i_am_from_the_hub_vmac_on_every_node(self):
        asker, *others = await self.nodes_n(4)  # spread over both workers
        who_is = bvlc.npdu(0x1000, BROADCAST_VMAC, bacnet.who_is())
        await asker.send(who_is)
        i_am = None
        for n in [asker] + others:
            frames = [await n.recv(what="I-Am")]
            if n is not asker:  # the others also see the Who-Is itself
                frames.append(await n.recv(what="Who-Is or I-Am"))
                self.assertIn(bvlc.hub_broadcast_rewrite(who_is, asker.vmac), frames)
            mine = [f for f in frames if Message.decode(f).orig == HUB_VMAC]
            self.assertEqual(len(mine), 1, [bvlc.describe(f) for f in frames])
            m = Message.decode(mine[0])
            self.assertEqual(m.dest, BROADCAST_VMAC)
            npdu = bacnet.decode_npdu(m.payload)
            self.assertEqual(npdu.dnet, 0xFFFF, "I-Am is a global broadcast")
            i_am = bacnet.decode_i_am(bacnet.decode_apdu(npdu.apdu))
            self.assertEqual(i_am, bacnet.IAm((bacnet.DEVICE, INSTANCE), 1476, 1, 260))
        await self.all_silent(asker, *others)

    async def test_who_is_with_a_range(self):
        asker, other = await self.nodes_n(2)
        for low, high, answered in ((INSTANCE, INSTANCE, True), (0, INSTANCE - 1, False),
                                    (INSTANCE + 1, 4194303, False), (0, 4194303, True)):
            with self.subTest(low=low, high=high):
                await asker.send(bvlc.npdu(0x1100, BROADCAST_VMAC, bacnet.who_is(low, high)))
                await other.recv(what="the Who-Is")
                if answered:
                    got = await asker.recv(what="I-Am")
                    self.assertEqual(Message.decode(got).orig, HUB_VMAC)
                    await other.recv(what="I-Am")
                await self.all_silent(asker, other)

    async def test_who_is_sent_to_the_hub_vmac_is_answered_to_everyone(self):
        asker, other = await self.nodes_n(2)
        await asker.send(bvlc.npdu(0x1200, HUB_VMAC, bacnet.who_is()))
        for n in (asker, other):
            m = Message.decode(await n.recv(what="I-Am"))
            self.assertEqual((m.orig, m.dest), (HUB_VMAC, BROADCAST_VMAC))

    async def test_who_has_gets_an_i_have_from_the_hub_vmac(self):
        asker, other = await self.nodes_n(2)
        for query, found in (({"name": "Hubster"}, (bacnet.DEVICE, INSTANCE)),
                             ({"obj": (bacnet.NETWORK_PORT, 1)}, (bacnet.NETWORK_PORT, 1)),
                             ({"name": "nobody"}, None)):
            with self.subTest(query=query):
                await asker.send(bvlc.npdu(0x1300, BROADCAST_VMAC, bacnet.who_has(**query)))
                await other.recv(what="the Who-Has")
                if found:
                    m = Message.decode(await asker.recv(what="I-Have"))
                    self.assertEqual((m.orig, m.dest), (HUB_VMAC, BROADCAST_VMAC))
                    device, obj, name = bacnet.decode_i_have(
                        bacnet.decode_apdu(bacnet.decode_npdu(m.payload).apdu))
                    self.assertEqual((device, obj), ((bacnet.DEVICE, INSTANCE), found))
                    self.assertEqual(name, "Hubster" if found[0] == bacnet.DEVICE
                                     else "SC hub port")
                    await other.recv(what="I-Have")
                await self.all_silent(asker, other)

    async def test_nobody_may_take_the_hub_vmac(self):
        ws, lport = await handshake(self.hub, HUB_VMAC, bvlc.random_uuid(), 0x77, node_ctx(0))
        n = nodes.Node(ws, HUB_VMAC, None, lport)
        self.nodes.append(n)
        await expect_nak(n, 0x77, bvlc.CONNECT_REQUEST, bvlc.NODE_DUPLICATE_VMAC)


class ReadPropertyTest(DeviceCase):

    async def test_device_properties(self):
        n = await self.node()
        obj, v = await self.read(n, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_NAME)
        self.assertEqual((obj, v), ((bacnet.DEVICE, INSTANCE), ["Hubster"]))
        _, v = await self.read(n, bacnet.DEVICE, INSTANCE, bacnet.PROTOCOL_REVISION)
        self.assertGreaterEqual(v[0], 24)
        _, v = await self.read(n, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_LIST)
        self.assertEqual(v, [(bacnet.DEVICE, INSTANCE), (bacnet.NETWORK_PORT, 1)])
        _, v = await self.read(n, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_LIST, index=0)
        self.assertEqual(v, [2])
        _, v = await self.read(n, bacnet.DEVICE, INSTANCE, bacnet.DEVICE_UUID)
        self.assertEqual(v, [HUB_UUID])
        _, v = await self.read(n, bacnet.DEVICE, INSTANCE, bacnet.VENDOR_IDENTIFIER)
        self.assertEqual(v, [260])
        # The wildcard instance is this device.
        obj, v = await self.read(n, bacnet.DEVICE, bacnet.WILDCARD_INSTANCE,
                                 bacnet.OBJECT_IDENTIFIER)
        self.assertEqual((obj, v), ((bacnet.DEVICE, INSTANCE), [(bacnet.DEVICE, INSTANCE)]))

    async def test_network_port_properties(self):
        n = await self.node()
        port = (bacnet.NETWORK_PORT, 1)
        _, v = await self.read(n, *port, bacnet.NETWORK_TYPE)
        self.assertEqual(v, [11])  # secure-connect
        _, v = await self.read(n, *port, bacnet.MAC_ADDRESS)
        self.assertEqual(v, [HUB_VMAC])
        _, v = await self.read(n, *port, bacnet.NETWORK_NUMBER)
        self.assertEqual(v, [7])
        _, v = await self.read(n, *port, bacnet.SC_HUB_FUNCTION_ENABLE)
        self.assertEqual(v, [True])
        _, v = await self.read(n, *port, bacnet.SC_HUB_FUNCTION_ACCEPT_URIS)
        self.assertEqual(v, [self.hub.uri])
        _, v = await self.read(n, *port, bacnet.SC_HUB_FUNCTION_BINDING)
        self.assertEqual(v, [self.hub.uri.split("://", 1)[1]])

    async def test_every_node_on_either_worker_gets_its_answer(self):
        ns = await self.nodes_n(4)
        for i, n in enumerate(ns):
            obj, v = await self.read(n, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_NAME, invoke=i)
            self.assertEqual(v, ["Hubster"])
        await self.all_silent(*ns)

    async def test_reply_keeps_the_request_priority(self):
        n = await self.node()
        npdu, apdu = await self.ask(n, bacnet.read_property(
            9, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_NAME, priority=2))
        self.assertEqual(npdu.priority, 2)
        self.assertEqual(apdu.pdu_type, bacnet.PDU_COMPLEX_ACK)

    async def test_read_property_multiple_all_required_optional(self):
        n = await self.node()
        for which, expect_required in ((bacnet.PROP_ALL, None), (bacnet.PROP_REQUIRED, True),
                                       (bacnet.PROP_OPTIONAL, False)):
            with self.subTest(which=which):
                _, apdu = await self.ask(n, bacnet.read_property_multiple(
                    3, [(bacnet.DEVICE, INSTANCE, [which]), (bacnet.NETWORK_PORT, 1, [which])]))
                (dev, dres), (port, pres) = bacnet.decode_rpm_ack(apdu)
                self.assertEqual((dev, port), ((bacnet.DEVICE, INSTANCE), (bacnet.NETWORK_PORT, 1)))
                self.assertEqual([r for r in dres + pres if r.error], [])
                props = {r.prop for r in dres}
                if expect_required is None:
                    self.assertTrue(bacnet.DEVICE_REQUIRED <= props, bacnet.DEVICE_REQUIRED - props)
                elif expect_required:
                    self.assertEqual(props, bacnet.DEVICE_REQUIRED)
                else:
                    self.assertFalse(props & bacnet.DEVICE_REQUIRED)
                if which == bacnet.PROP_ALL:
                    values = {r.prop: r.values for r in dres}
                    self.assertEqual(values[bacnet.OBJECT_NAME], ["Hubster"])
                    self.assertEqual(values[58], ["lab 3"])  # Location
                    # Property_List names every property but the four every object has.
                    self.assertEqual(set(values[bacnet.PROPERTY_LIST]),
                                     props - {75, 77, 79, 371})

    async def test_read_property_multiple_mixed_results(self):
        n = await self.node()
        _, apdu = await self.ask(n, bacnet.read_property_multiple(
            4, [(bacnet.DEVICE, INSTANCE, [bacnet.OBJECT_NAME, bacnet.PRESENT_VALUE]),
                (bacnet.DEVICE, INSTANCE + 1, [bacnet.OBJECT_NAME])]))
        (_, first), (missing, second) = bacnet.decode_rpm_ack(apdu)
        self.assertEqual(first[0].values, ["Hubster"])
        self.assertEqual(first[1].error, (bacnet.ERROR_CLASS_PROPERTY, bacnet.UNKNOWN_PROPERTY))
        self.assertEqual(missing, (bacnet.DEVICE, INSTANCE + 1))
        self.assertEqual(second[0].error, (bacnet.ERROR_CLASS_OBJECT, bacnet.UNKNOWN_OBJECT))


class RefusalTest(DeviceCase):

    async def test_unknown_object_and_property(self):
        n = await self.node()
        _, apdu = await self.ask(n, bacnet.read_property(5, bacnet.DEVICE, INSTANCE + 1,
                                                         bacnet.OBJECT_NAME))
        self.assertEqual((apdu.pdu_type, apdu.invoke, apdu.error),
                         (bacnet.PDU_ERROR, 5, (bacnet.ERROR_CLASS_OBJECT, bacnet.UNKNOWN_OBJECT)))
        _, apdu = await self.ask(n, bacnet.read_property(6, bacnet.DEVICE, INSTANCE,
                                                         bacnet.PRESENT_VALUE))
        self.assertEqual((apdu.pdu_type, apdu.error),
                         (bacnet.PDU_ERROR, (bacnet.ERROR_CLASS_PROPERTY, bacnet.UNKNOWN_PROPERTY)))

    async def test_write_property_is_rejected_and_segmented_requests_aborted(self):
        n = await self.node()
        _, apdu = await self.ask(n, bacnet.write_property_name(7, INSTANCE, "x"))
        self.assertEqual((apdu.pdu_type, apdu.invoke, apdu.reason),
                         (bacnet.PDU_REJECT, 7, bacnet.REJECT_UNRECOGNIZED_SERVICE))
        _, apdu = await self.ask(n, bacnet.segmented_read_property(8, INSTANCE))
        self.assertEqual((apdu.pdu_type, apdu.invoke, apdu.reason),
                         (bacnet.PDU_ABORT, 8, bacnet.ABORT_SEGMENTATION_NOT_SUPPORTED))

    async def test_an_answer_too_long_for_the_requester_is_aborted(self):
        n = await self.node()
        _, apdu = await self.ask(n, bacnet.read_property(
            9, bacnet.DEVICE, INSTANCE, bacnet.PROPERTY_LIST, max_apdu_code=0))  # 50 octets
        self.assertEqual((apdu.pdu_type, apdu.reason),
                         (bacnet.PDU_ABORT, bacnet.ABORT_SEGMENTATION_NOT_SUPPORTED))


class NoDeviceTest(HubTestCase):
    """Without --device-instance the hub's VMAC is nobody's: frames to it are dropped."""

    async def test_frames_to_the_hub_vmac_are_dropped_and_who_is_unanswered(self):
        a, b = await self.nodes_n(2)
        await a.send(bvlc.npdu(0x2000, HUB_VMAC, bacnet.read_property(
            1, bacnet.DEVICE, bacnet.WILDCARD_INSTANCE, bacnet.OBJECT_NAME)))
        await self.all_silent(a, b)
        who_is = bvlc.npdu(0x2001, BROADCAST_VMAC, bacnet.who_is())
        await a.send(who_is)
        await b.expect(bvlc.hub_broadcast_rewrite(who_is, a.vmac), "the Who-Is")
        await self.all_silent(a, b)


class LibVectorsTest(unittest.TestCase):
    """lib/bacnet.py itself against the vectors of docs/bacnet-device.md §12 (no hub)."""

    def test_encoders(self):
        h = bytes.fromhex
        self.assertEqual(bacnet.who_is(), h("01 20 FF FF 00 FF 10 08"))
        self.assertEqual(bacnet.who_is(0, 4194303)[6:], h("10 08 09 00 1B 3F FF FF"))
        self.assertEqual(bacnet.who_has(name="Hub")[6:], h("10 07 3C 00 48 75 62"))
        self.assertEqual(bacnet.read_property(1, bacnet.DEVICE, 4000, bacnet.OBJECT_NAME),
                         h("01 04 00 05 01 0C 0C 02 00 0F A0 19 4D"))
        self.assertEqual(bacnet.read_property_multiple(
            4, [(bacnet.DEVICE, 4000, [77, 112, 139]), (bacnet.NETWORK_PORT, 1, [427])])[2:],
            h("00 05 04 0E 0C 02 00 0F A0 1E 09 4D 09 70 09 8B 1F 0C 0E 00 00 01 1E 0A 01 AB 1F"))

    def test_decoders(self):
        h = bytes.fromhex
        self.assertEqual(bacnet.decode_i_am(bacnet.decode_apdu(
            h("10 00 C4 02 00 0F A0 22 05 C4 91 03 22 01 04"))),
            bacnet.IAm((8, 4000), 1476, 3, 260))
        self.assertEqual(bacnet.decode_read_property_ack(bacnet.decode_apdu(
            h("30 02 0C 0C 02 00 0F A0 19 4C 3E C4 02 00 0F A0 C4 0E 00 00 01 3F"))),
            ((8, 4000), 76, None, [(8, 4000), (56, 1)]))
        acks = bacnet.decode_rpm_ack(bacnet.decode_apdu(h(
            "30 04 0E 0C 02 00 0F A0 1E 29 4D 4E 75 08 00 48 75 62 73 74 65 72 4F 29 70 4E 91 "
            "00 4F 29 8B 4E 21 18 4F 1F 0C 0E 00 00 01 1E 2A 01 AB 4E 91 0B 4F 2A 01 A5 5E 91 02 "
            "91 20 5F 1F")))
        self.assertEqual([(o, [(r.prop, r.values, r.error) for r in rs]) for o, rs in acks],
                         [((8, 4000), [(77, ["Hubster"], None), (112, [0], None),
                                       (139, [24], None)]),
                          ((56, 1), [(427, [11], None), (421, [], (2, 32))])])
        self.assertEqual(bacnet.decode_apdu(h("50 01 0C 91 02 91 20")).error, (2, 32))
        self.assertEqual(bacnet.decode_apdu(h("71 03 04")).reason, 4)


class DeviceConfigTest(unittest.TestCase):
    """The device options on the command line and in the config file, via --check-config."""

    def check(self, toml_text, *args):
        with tempfile.TemporaryDirectory(prefix="bschub-it-device-") as d:
            path = os.path.join(d, "bschub.toml")
            with open(path, "w", encoding="utf-8") as f:
                f.write('listen = "127.0.0.1:0"\nno-tls = true\n' + toml_text)
            r = subprocess.run([hubproc.find_binary(), "--check-config", path, *args],
                               capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout.replace(path, "FILE"), r.stderr.replace(path, "FILE")

    def test_good_device_settings_check(self):
        self.assertEqual(self.check('device-instance = 4194302\ndevice-name = "Hub Süd"\n'
                                    'network-number = 65534\nvendor-identifier = 65535\n'
                                    'vendor-name = "v"\nmodel-name = "m"\ndescription = "d"\n'
                                    'location = "l"\ndcc-password = "12345678901234567890"\n'
                                    'accept-uri = ["wss://hub.example.com", "wss://[::1]:1"]\n'),
                         (0, "FILE: OK\n", ""))

    def test_bad_values_name_the_option(self):
        cases = [
            ("device-instance = 4194303\n", (), "FILE:3: --device-instance must be 0..4194302"),
            ("", ("--device-instance=-2",), "--device-instance must be 0..4194302"),
            ("network-number = 65535\n", (), "FILE:3: --network-number must be 0..65534"),
            ("vendor-identifier = 65536\n", (), "FILE:3: --vendor-identifier must be 0..65535"),
            ('location = "' + "x" * 256 + '"\n', (),
             "FILE:3: --location must be at most 255 octets"),
            ('dcc-password = "' + "p" * 21 + '"\n', (),
             "FILE:3: --dcc-password must be UTF-8 text of 1..20 characters"),
            ('accept-uri = ["ws://hub"]\n', (), "FILE:3: --accept-uri wants "
             "wss://HOST[:PORT][/PATH] of at most 255 octets, not 'ws://hub'"),
            ("", ("--accept-uri", "wss://hub:0"), "--accept-uri wants "
             "wss://HOST[:PORT][/PATH] of at most 255 octets, not 'wss://hub:0'"),
        ]
        for text, args, message in cases:
            with self.subTest(message=message):
                self.assertEqual(self.check(text, *args), (2, "", f"bschub: {message}\n"))


if __name__ == "__main__":
    hubproc.main()

#!/usr/bin/python3
"""The hub device's ReadRange and DeviceCommunicationControl, and --accept-uri, over real
TLS: nodes page the device's lists by position through the hub, and silence the device
with DCC while the hub function keeps routing between them. Answers are checked with the
test library's own decoder (lib/bacnet.py). DCC durations are whole minutes: their expiry
is tested with a fake clock in tests/unit/core/device_services_test.cpp.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_device_services.py -v
"""

from lib import bacnet, bvlc, hubproc, nodes
from lib.bvlc import BROADCAST_VMAC, Message
from lib.nodes import HUB_VMAC
from test_device import DEVICE_ARGS, INSTANCE, DeviceCase

PORT = (bacnet.NETWORK_PORT, 1)
ACCEPT_URIS = ["wss://hub.example.com:443/bacnet", "wss://10.1.2.3:4443"]
PASSWORD = "open sesame"


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


class ReadRangeTest(DeviceCase):
    HUB_ARGS = DEVICE_ARGS + ("--accept-uri", ACCEPT_URIS[0], "--accept-uri", ACCEPT_URIS[1])

    async def range(self, node, obj, prop, invoke=1, **kw):
        _, apdu = await self.ask(node, bacnet.read_range(invoke, *obj, prop, **kw))
        self.assertEqual(apdu.invoke, invoke)
        ack = bacnet.decode_read_range_ack(apdu)
        self.assertEqual((ack.obj, ack.prop), (obj, prop))
        return ack

    async def test_paging_a_list_that_does_not_fit_forwards_and_backwards(self):
        n = await self.node()
        _, whole = await self.read(n, *PORT, bacnet.PROPERTY_LIST)
        size = len(whole)
        self.assertEqual(size, 23)  # 27 properties but the four every object has
        # Forwards at a max-APDU of 50 octets: each page as much as fits, more-items until
        # the last page, first-item on the first only.
        got, ref, pages = [], 1, 0
        while True:
            ack = await self.range(n, PORT, bacnet.PROPERTY_LIST, invoke=pages,
                                   position=(ref, size), max_apdu_code=0)
            self.assertGreater(ack.item_count, 0)
            self.assertEqual(ack.first_item, ref == 1)
            got += ack.values
            ref += ack.item_count
            pages += 1
            self.assertEqual((ack.last_item, ack.more_items), (ref > size, ref <= size))
            if ack.last_item:
                break
        self.assertEqual(got, whole)
        self.assertGreater(pages, 1)
        # Backwards from the end: the items nearest the reference come first.
        got, ref = [], size
        while ref >= 1:
            ack = await self.range(n, PORT, bacnet.PROPERTY_LIST, position=(ref, -size),
                                   max_apdu_code=0)
            self.assertEqual(ack.last_item, ref == size)
            got = ack.values + got
            ref -= ack.item_count
            self.assertEqual((ack.first_item, ack.more_items), (ref == 0, ref > 0))
        self.assertEqual(got, whole)

    async def test_object_list_by_position(self):
        n = await self.node()
        dev = (bacnet.DEVICE, INSTANCE)
        both = [dev, PORT]
        for position, flags, values in (((1, 1), (True, False, False), [dev]),
                                        ((2, -1), (False, True, False), [PORT]),
                                        ((2, -5), (True, True, False), both),
                                        ((1, 100), (True, True, False), both),
                                        ((3, 1), (False, False, False), []),
                                        (None, (True, True, False), both)):
            with self.subTest(position=position):
                ack = await self.range(n, dev, bacnet.OBJECT_LIST, position=position)
                self.assertEqual((ack.first_item, ack.last_item, ack.more_items), flags)
                self.assertEqual(ack.values, values)
        # The wildcard instance is this device; the ACK names the real one.
        _, apdu = await self.ask(n, bacnet.read_range(
            2, bacnet.DEVICE, bacnet.WILDCARD_INSTANCE, bacnet.OBJECT_LIST, position=(1, 1)))
        self.assertEqual(bacnet.decode_read_range_ack(apdu).obj, dev)

    async def test_empty_list_and_accept_uris(self):
        n = await self.node()
        ack = await self.range(n, (bacnet.DEVICE, INSTANCE), bacnet.DEVICE_ADDRESS_BINDING)
        self.assertEqual((ack.item_count, ack.first_item, ack.last_item, ack.more_items),
                         (0, False, False, False))
        _, v = await self.read(n, *PORT, bacnet.SC_HUB_FUNCTION_ACCEPT_URIS)
        self.assertEqual(v, ACCEPT_URIS)
        ack = await self.range(n, PORT, bacnet.SC_HUB_FUNCTION_ACCEPT_URIS, position=(2, 1))
        self.assertEqual((ack.values, ack.last_item), ([ACCEPT_URIS[1]], True))
        # The binding is still where the hub listens.
        _, v = await self.read(n, *PORT, bacnet.SC_HUB_FUNCTION_BINDING)
        self.assertEqual(v, [self.hub.uri.split("://", 1)[1]])

    async def test_errors(self):
        n = await self.node()
        dev = (bacnet.DEVICE, INSTANCE)
        for request, error in (
                ((*dev, bacnet.OBJECT_NAME), (bacnet.ERROR_CLASS_PROPERTY,
                                              bacnet.PROPERTY_IS_NOT_A_LIST)),
                ((*dev, bacnet.PRESENT_VALUE), (bacnet.ERROR_CLASS_PROPERTY,
                                                bacnet.UNKNOWN_PROPERTY)),
                ((bacnet.DEVICE, INSTANCE + 1, bacnet.OBJECT_LIST), (bacnet.ERROR_CLASS_OBJECT,
                                                                     bacnet.UNKNOWN_OBJECT)),
                ((bacnet.NETWORK_PORT, 2, bacnet.PROPERTY_LIST), (bacnet.ERROR_CLASS_OBJECT,
                                                                  bacnet.UNKNOWN_OBJECT))):
            with self.subTest(request=request):
                _, apdu = await self.ask(n, bacnet.read_range(3, *request, position=(1, 1)))
                self.assertEqual((apdu.pdu_type, apdu.invoke, apdu.service, apdu.error),
                                 (bacnet.PDU_ERROR, 3, bacnet.SERVICE_READ_RANGE, error))
        # By sequence number: the device's lists carry no sequence numbers.
        _, apdu = await self.ask(n, bacnet.read_range(4, *dev, bacnet.OBJECT_LIST,
                                                      sequence=(1, 1)))
        self.assertEqual(apdu.error, (bacnet.ERROR_CLASS_SERVICES,
                                      bacnet.OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED))


class DccTest(DeviceCase):
    HUB_ARGS = DEVICE_ARGS + ("--dcc-password", PASSWORD)

    async def dcc(self, node, state, password=PASSWORD, invoke=7, **kw):
        _, apdu = await self.ask(node, bacnet.device_communication_control(
            invoke, state, password=password, **kw))
        self.assertEqual((apdu.invoke, apdu.service), (invoke, bacnet.SERVICE_DCC))
        return apdu

    async def enable(self, node):
        apdu = await self.dcc(node, bacnet.DCC_ENABLE)
        self.assertEqual(apdu.pdu_type, bacnet.PDU_SIMPLE_ACK)

    async def test_a_wrong_or_missing_password_is_refused(self):
        n = await self.node()
        for password in ("open sesam", None, "x" * 20):
            with self.subTest(password=password):
                apdu = await self.dcc(n, bacnet.DCC_DISABLE, password=password, minutes=5)
                self.assertEqual((apdu.pdu_type, apdu.error),
                                 (bacnet.PDU_ERROR, (bacnet.ERROR_CLASS_SECURITY,
                                                     bacnet.PASSWORD_FAILURE)))
        _, v = await self.read(n, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_NAME)
        self.assertEqual(v, ["Hubster"])

    async def test_disable_silences_the_device_and_routing_goes_on(self):
        a, b = await self.nodes_n(2)
        apdu = await self.dcc(a, bacnet.DCC_DISABLE, minutes=30)
        self.assertEqual(apdu.pdu_type, bacnet.PDU_SIMPLE_ACK)
        try:
            # ReadProperty, ReadRange and a WriteProperty get nothing; Who-Is no I-Am.
            for i, req in enumerate((
                    bacnet.read_property(1, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_NAME),
                    bacnet.read_range(2, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_LIST),
                    bacnet.write_property_name(3, INSTANCE, "x"))):
                await a.send(bvlc.npdu(0x4500 + i, HUB_VMAC, req))
            who_is = bvlc.npdu(0x4510, BROADCAST_VMAC, bacnet.who_is())
            await a.send(who_is)
            await b.expect(bvlc.hub_broadcast_rewrite(who_is, a.vmac), "the Who-Is")
            await self.all_silent(a, b)
            # The hub function routes unicasts both ways and broadcasts as before.
            for sender, receiver, msg_id in ((a, b, 0x4520), (b, a, 0x4521)):
                frame = bvlc.npdu(msg_id, receiver.vmac, b"\x01\x00\x10\x08")
                await sender.send(frame)
                await receiver.expect(bvlc.hub_unicast_rewrite(frame, sender.vmac), "unicast")
            # A wrong password is still answered, and changes nothing.
            apdu = await self.dcc(a, bacnet.DCC_ENABLE, password="wrong")
            self.assertEqual(apdu.pdu_type, bacnet.PDU_ERROR)
            await a.send(bvlc.npdu(0x4530, HUB_VMAC, bacnet.read_property(
                4, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_NAME)))
            await self.all_silent(a, b)
        finally:
            await self.enable(a)
        _, v = await self.read(b, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_NAME)
        self.assertEqual(v, ["Hubster"])

    async def test_disable_initiation_answers_requests_and_who_is_only(self):
        a, b = await self.nodes_n(2)
        apdu = await self.dcc(a, bacnet.DCC_DISABLE_INITIATION)
        self.assertEqual(apdu.pdu_type, bacnet.PDU_SIMPLE_ACK)
        try:
            _, v = await self.read(a, bacnet.DEVICE, INSTANCE, bacnet.OBJECT_NAME)
            self.assertEqual(v, ["Hubster"])
            # Who-Is: its I-Am is the one message the device may still initiate.
            await a.send(bvlc.npdu(0x4600, BROADCAST_VMAC, bacnet.who_is()))
            await b.recv(what="the Who-Is")
            for n in (a, b):
                m = Message.decode(await n.recv(what="I-Am"))
                self.assertEqual((m.orig, m.dest), (HUB_VMAC, BROADCAST_VMAC))
            # Who-Has: no I-Have.
            await a.send(bvlc.npdu(0x4601, BROADCAST_VMAC, bacnet.who_has(name="Hubster")))
            await b.recv(what="the Who-Has")
            await self.all_silent(a, b)
        finally:
            await self.enable(a)


if __name__ == "__main__":
    hubproc.main()

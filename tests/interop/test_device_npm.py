#!/usr/bin/python3
"""The hub's BACnet device (--device-instance) read by a Node.js requester whose answers are
decoded by an npm BACnet library, @bacnet-js/client (pinned in
tests/interop/node/package-lock.json), which shares no code with the hub or with the test
library's decoder: node/read_device.js connects over real TLS with a node certificate of
the suite PKI, sends Who-Is, ReadProperty, ReadPropertyMultiple ALL, a read of an unknown
object and a WriteProperty, and prints the library's decoding of every answer as JSON.

Each decoded value must equal what the hub was configured with, and equal what the test
library's own decoder (tests/integration/lib/bacnet.py) reads from the same octets.

What the library cannot do, and what is done instead:
- its ReadProperty encoder leaves out property identifiers above 4194303 (the BACnet/SC
  ones): read_device.js encodes those requests with the library's ASN.1 primitives;
- its I-Am decoding returns the instance only (it refuses a non-device identifier);
- it reads a Reject with its Abort decoder (same three octets): the PDU type tells them apart;
- the SC constructed types (BACnetSCHubFunctionConnection, BACnetHostNPort, ...) are not
  served by the device yet (bacnet-device.md §14.4), so none is decoded here.

    BSCHUB=build/bschub /usr/bin/python3 tests/interop/test_device_npm.py -v
"""

import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from lib import bacnet, bvlc, hubproc, nodes  # noqa: E402
from lib.nodes import HUB_UUID, HUB_VMAC  # noqa: E402

READER = os.path.join(HERE, "node", "read_device.js")
INSTANCE = 4001
NAME = "Hub Süd"  # not ASCII: the library's character-set decoding is checked too
VENDOR_ID, VENDOR_NAME, LOCATION, NETWORK = 260, "bschub tests", "lab 3", 7
CONNECT_WAIT, DISCONNECT_WAIT, HEARTBEAT, MAX_BVLC = 7, 4, 250, 4000
HUB_ARGS = ("--workers", "2", "--device-instance", str(INSTANCE), "--device-name", NAME,
            "--vendor-identifier", str(VENDOR_ID), "--vendor-name", VENDOR_NAME,
            "--location", LOCATION, "--network-number", str(NETWORK),
            "--connect-wait", str(CONNECT_WAIT), "--disconnect-wait", str(DISCONNECT_WAIT),
            "--heartbeat-timeout", str(HEARTBEAT), "--max-bvlc", str(MAX_BVLC))

DEVICE = (bacnet.DEVICE, INSTANCE)
PORT = (bacnet.NETWORK_PORT, 1)
UNKNOWN_DEVICE = (bacnet.DEVICE, INSTANCE + 1)
# BACnetServicesSupported bits: readProperty 12, readPropertyMultiple 14,
# deviceCommunicationControl 17, who-Has 33, who-Is 34, readRange 35.
SERVICES = tuple(i in (12, 14, 17, 33, 34, 35) for i in range(49))
ARRAY_ALL = 0xFFFFFFFF  # the library's "no array index"
PDU_TYPE_MASK = 0xF0


def expected_reads(hub):
    """(object, property, array index or None) -> the values the configuration gives."""
    return {
        (DEVICE, bacnet.OBJECT_IDENTIFIER, None): [DEVICE],
        (DEVICE, bacnet.OBJECT_NAME, None): [NAME],
        (DEVICE, bacnet.OBJECT_TYPE, None): [bacnet.DEVICE],
        (DEVICE, bacnet.VENDOR_IDENTIFIER, None): [VENDOR_ID],
        (DEVICE, bacnet.VENDOR_NAME, None): [VENDOR_NAME],
        (DEVICE, bacnet.LOCATION, None): [LOCATION],
        (DEVICE, bacnet.PROTOCOL_REVISION, None): [24],
        (DEVICE, bacnet.OBJECT_LIST, None): [DEVICE, PORT],
        (DEVICE, bacnet.OBJECT_LIST, 0): [2],
        (DEVICE, bacnet.DEVICE_UUID, None): [HUB_UUID],
        (DEVICE, bacnet.MAX_APDU_LENGTH_ACCEPTED, None): [1476],
        (DEVICE, bacnet.SEGMENTATION_SUPPORTED, None): [1],  # segmented-transmit
        (DEVICE, bacnet.PROTOCOL_SERVICES_SUPPORTED, None): [SERVICES],
        (PORT, bacnet.OBJECT_NAME, None): ["SC hub port"],
        (PORT, bacnet.NETWORK_TYPE, None): [11],  # secure-connect
        (PORT, bacnet.MAC_ADDRESS, None): [HUB_VMAC],
        (PORT, bacnet.NETWORK_NUMBER, None): [NETWORK],
        (PORT, bacnet.STATUS_FLAGS, None): [(False,) * 4],
        (PORT, bacnet.LINK_SPEED, None): [0.0],
        (PORT, bacnet.MAX_BVLC_LENGTH_ACCEPTED, None): [MAX_BVLC],
        (PORT, bacnet.MAX_NPDU_LENGTH_ACCEPTED, None): [nodes.HUB_MAX_NPDU],
        (PORT, bacnet.SC_CONNECT_WAIT_TIMEOUT, None): [CONNECT_WAIT],
        (PORT, bacnet.SC_DISCONNECT_WAIT_TIMEOUT, None): [DISCONNECT_WAIT],
        (PORT, bacnet.SC_HEARTBEAT_TIMEOUT, None): [HEARTBEAT],
        (PORT, bacnet.SC_HUB_FUNCTION_ENABLE, None): [True],
        (PORT, bacnet.SC_HUB_FUNCTION_ACCEPT_URIS, None): [hub.uri],
        (PORT, bacnet.SC_HUB_FUNCTION_BINDING, None): [hub.uri.split("://", 1)[1]],
    }


def plan(reads):
    """read_device.js's plan: Who-Is, every read of `reads`, RPM ALL of both objects, a read
    of an object the device does not have, a WriteProperty (a service it does not execute)."""
    requests = [{"name": "who-is", "service": "who-is"}]
    for obj, prop, index in reads:
        r = {"name": f"rp {obj} {prop} {index}", "service": "read-property",
             "object": list(obj), "property": prop}
        if index is not None:
            r["index"] = index
        requests.append(r)
    requests.append({"name": "rpm all", "service": "read-property-multiple",
                     "specs": [{"object": list(o), "properties": [bacnet.PROP_ALL]}
                               for o in (DEVICE, PORT)]})
    requests.append({"name": "rp unknown object", "service": "read-property",
                     "object": list(UNKNOWN_DEVICE), "property": bacnet.OBJECT_NAME})
    requests.append({"name": "write-property", "service": "write-property",
                     "object": list(DEVICE), "property": bacnet.OBJECT_NAME, "value": "x"})
    return {"requests": requests}


# --- both decoders' values in one form ---------------------------------------------------

# The Network Port's connection lists: BACnetSC* constructed types, which the library leaves
# as raw context-tagged octets (device-js shows it); test_device_history decodes them.
SC_LISTS = (bacnet.SC_HUB_FUNCTION_CONNECTION_STATUS, bacnet.SC_FAILED_CONNECTION_REQUESTS)


def npm_value(v):
    """A value as @bacnet-js/client decodes it ({type: application tag, value}) -> the form
    of lib/bacnet.py's values (bit strings as tuples of booleans)."""
    tag, x = v["type"], v.get("value")
    if tag == 6:    # OCTET STRING: an array of octets
        return bytes(x)
    if tag == 8:    # BIT STRING: octets with bit n at (1 << n % 8) of octet n // 8
        return tuple(bool(x["value"][n // 8] >> (n % 8) & 1) for n in range(x["bitsUsed"]))
    if tag == 12:   # BACnetObjectIdentifier
        return (x["type"], x["instance"])
    if tag in (0, 1, 2, 3, 4, 5, 7, 9):
        return x
    raise AssertionError(f"application tag {tag} not expected from the device: {v}")


def own_value(v):
    return tuple(v.bits) if isinstance(v, bacnet.BitString) else v


def same(a, b):
    """Equal values, a REAL to float32 precision."""
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6)
    return a == b


def npm_index(i):
    return None if i == ARRAY_ALL else i


# --- the test ----------------------------------------------------------------------------

def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


class NpmDecoderTest(nodes.HubTestCase):
    """One run of read_device.js against a hub with the device on; each test checks a part."""

    HUB_ARGS = HUB_ARGS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reads = expected_reads(cls.hub)
        cert, key = nodes.PKI.node(0)
        argv = ["node", READER, "--url", f"wss://127.0.0.1:{cls.hub.port}/",
                "--ca", nodes.PKI.ca_cert, "--cert", cert, "--key", key,
                "--vmac", "02:00:00:00:0e:01", "--timeout", "40"]
        r = subprocess.run(argv, input=json.dumps(plan(cls.reads)), capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"read_device.js exit {r.returncode}: {r.stderr}")
        cls.result = json.loads(r.stdout)
        cls.answers = {a["name"]: a for a in cls.result["answers"]}

    def answer(self, name):
        """The library's decoding of one answer, and the test library's of the same NPDU."""
        a = self.answers[name]
        npdu = bacnet.decode_npdu(bytes.fromhex(a["answer"]))
        own = bacnet.decode_apdu(npdu.apdu)
        # NPDU header: both decoders read the same control octet and destination.
        self.assertEqual(a["npdu"]["funct"], npdu.control, name)
        self.assertEqual((a["npdu"].get("destination") or {}).get("net"), npdu.dnet, name)
        self.assertEqual(a["apdu"]["type"] & PDU_TYPE_MASK, own.pdu_type << 4, name)
        return a, own

    def test_connect_accept_names_the_hub(self):
        hub = self.result["hub"]
        self.assertEqual((hub["vmac"], bytes.fromhex(hub["uuid"])),
                         (bvlc.vmac_str(HUB_VMAC).lower(), HUB_UUID))

    def test_i_am(self):
        a, own = self.answer("who-is")
        self.assertEqual(a["destination"], "ff:ff:ff:ff:ff:ff")
        self.assertEqual(a["npdu"]["destination"]["net"], 0xFFFF, "a global broadcast")
        s = a["service"]
        got = (s["deviceId"], s["maxApdu"], s["segmentation"], s["vendorId"])
        self.assertEqual(got, (INSTANCE, 1476, 1, VENDOR_ID))  # segmented-transmit
        i_am = bacnet.decode_i_am(own)
        self.assertEqual(bytes.fromhex(a["request"]), bacnet.who_is())
        self.assertEqual(got, (i_am.device[1], i_am.max_apdu, i_am.segmentation, i_am.vendor))

    def test_read_property_values_are_the_configuration(self):
        for (obj, prop, index), expected in self.reads.items():
            with self.subTest(obj=obj, prop=prop, index=index):
                a, own = self.answer(f"rp {obj} {prop} {index}")
                self.assertIsNone(a["destination"], "unicast to the requester")
                s = a["service"]
                self.assertIsInstance(s, dict, s)
                self.assertEqual(((s["objectId"]["type"], s["objectId"]["instance"]),
                                  s["property"]["id"], npm_index(s["property"]["index"])),
                                 (obj, prop, index))
                got = [npm_value(v) for v in s["values"]]
                self.assertEqual(len(got), len(expected), got)
                self.assertTrue(all(map(same, got, expected)), (got, expected))
                self.assertEqual(a["apdu"]["invokeId"], own.invoke)
                # The library encoded the request as the test library does.
                self.assertEqual(bytes.fromhex(a["request"]),
                                 bacnet.read_property(own.invoke, *obj, prop, index))
                own_obj, own_prop, own_index, own_values = bacnet.decode_read_property_ack(own)
                self.assertEqual((own_obj, own_prop, own_index), (obj, prop, index))
                self.assertTrue(all(map(same, got, map(own_value, own_values))),
                                (got, own_values))

    def test_read_property_multiple_all_matches_the_own_decoder(self):
        a, own = self.answer("rpm all")
        s = a["service"]
        self.assertIsInstance(s, dict, s)
        mine = bacnet.decode_rpm_ack(own)
        self.assertEqual(bytes.fromhex(a["request"]), bacnet.read_property_multiple(
            own.invoke, [(*o, [bacnet.PROP_ALL]) for o in (DEVICE, PORT)]))
        self.assertEqual([(o["objectId"]["type"], o["objectId"]["instance"]) for o in s["values"]],
                         [obj for obj, _ in mine])
        by_prop = {}
        for o, (obj, results) in zip(s["values"], mine):
            self.assertEqual([(r["id"], npm_index(r["index"])) for r in o["values"]],
                             [(r.prop, r.index) for r in results], obj)
            for r, theirs in zip(o["values"], results):
                with self.subTest(obj=obj, prop=r["id"]):
                    self.assertIsNone(theirs.error)
                    if r["id"] in SC_LISTS:
                        continue  # context-tagged SC types: the library has no decoder for them
                    got = [npm_value(v) for v in r["value"]]
                    self.assertTrue(len(got) == len(theirs.values) and
                                    all(map(same, got, map(own_value, theirs.values))),
                                    (got, theirs.values))
                    by_prop[(obj, r["id"])] = got
        # ALL holds what the reads above got, the same values.
        for (obj, prop, index), expected in self.reads.items():
            if index is None:
                with self.subTest(obj=obj, prop=prop):
                    self.assertIn((obj, prop), by_prop)
                    self.assertTrue(all(map(same, by_prop[(obj, prop)], expected)),
                                    (by_prop[(obj, prop)], expected))

    def test_unknown_object_is_an_error(self):
        a, own = self.answer("rp unknown object")
        self.assertEqual((a["service"]["class"], a["service"]["code"]),
                         (bacnet.ERROR_CLASS_OBJECT, bacnet.UNKNOWN_OBJECT))
        self.assertEqual((a["service"]["class"], a["service"]["code"]), own.error)
        self.assertEqual((a["apdu"]["service"], a["apdu"]["invokeId"]),
                         (bacnet.SERVICE_READ_PROPERTY, own.invoke))

    def test_write_property_is_rejected(self):
        a, own = self.answer("write-property")
        self.assertEqual(a["apdu"]["type"] & PDU_TYPE_MASK, bacnet.PDU_REJECT << 4)
        self.assertEqual(a["apdu"]["reason"], bacnet.REJECT_UNRECOGNIZED_SERVICE)
        self.assertEqual((a["apdu"]["invokeId"], a["apdu"]["reason"]), (own.invoke, own.reason))
        self.assertEqual(bytes.fromhex(a["request"]),
                         bacnet.write_property_name(own.invoke, INSTANCE, "x"))


if __name__ == "__main__":
    hubproc.main()

#!/usr/bin/python3
"""Self-test of the test-side BVLC-SC codec (bvlc.py) against the vectors V1..V28 of
docs/protocol.md §7. Needs no hub:

    /usr/bin/python3 tests/integration/test_bvlc.py
"""

import unittest

from lib import bvlc
from lib.bvlc import HeaderOption, Message

A = bvlc.vmac("02A1B2C3D4E5")
B = bvlc.vmac("12F0E1D2C3B4")
HUB = bvlc.vmac("927BF71A96A2")
A_UUID = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
HUB_UUID = bytes.fromhex("FFEEDDCCBBAA99887766554433221100")
NPDU = bytes.fromhex("01040000010C0C000000051955")

V = {k: bytes.fromhex(v) for k, v in {
    1: "0600000102A1B2C3D4E500112233445566778899AABBCCDDEEFF064005D9",
    2: "07000001927BF71A96A2FFEEDDCCBBAA99887766554433221100177005D9",
    3: "0A000102",
    4: "0B000102",
    5: "08000203",
    6: "09000203",
    7: "0000000106010000070097",
    8: "0000000106010000070071",
    9: "0104B5EC12F0E1D2C3B401040000010C0C000000051955",
    10: "0108B5EC02A1B2C3D4E501040000010C0C000000051955",
    11: "010C000002A1B2C3D4E512F0E1D2C3B401040000010C0C000000051955",
    12: "0108000002A1B2C3D4E501040000010C0C000000051955",
    13: "01040010FFFFFFFFFFFF01040000010C0C000000051955",
    14: "010C001002A1B2C3D4E5FFFFFFFFFFFF01040000010C0C000000051955",
    15: "0105002012F0E1D2C3B44101040000010C0C000000051955",
    16: "0109002002A1B2C3D4E54101040000010C0C000000051955",
    17: "0107003012F0E1D2C3B43F0006022B01C0FFEE4101040000010C0C000000051955",
    18: "010B003002A1B2C3D4E53F0006022B01C0FFEE4101040000010C0C000000051955",
    19: "0504004012F0E1D2C3B4",
    20: "0404004102A1B2C3D4E50100064005D9",
    21: "0204005012F0E1D2C3B4",
    22: "0304005002A1B2C3D4E57773733A2F2F31302E302E302E353A34343433",
    23: "0C04006012F0E1D2C3B4022B07AABB",
    24: "0106003112F0E1D2C3B47F0003022B0101040000010C0C000000051955",
    25: "0004003102A1B2C3D4E501017F00070092",
    26: "000000700D01000007008F62616420666E",
    27: "0107B5EC927BF71A96A2BF0007022BBAC5ECC0993F00030309390101040000010C0C000000051955",
    28: "010BB5EC02A1B2C3D4E5BF0007022BBAC5ECC0993F00030309390101040000010C0C000000051955",
}.items()}


class VectorRoundTrip(unittest.TestCase):
    def test_all_vectors_decode_and_reencode(self):
        for k, raw in V.items():
            with self.subTest(vector=k):
                self.assertEqual(Message.decode(raw).encode(), raw)


class Builders(unittest.TestCase):
    def test_v1_connect_request(self):
        self.assertEqual(bvlc.connect_request(1, A, A_UUID, 1600, 1497), V[1])
        m = Message.decode(V[1])
        p = bvlc.ConnectPayload.decode(m.payload)
        self.assertEqual((m.function, m.flags, m.msg_id), (bvlc.CONNECT_REQUEST, 0, 1))
        self.assertEqual((p.vmac, p.uuid, p.max_bvlc, p.max_npdu), (A, A_UUID, 1600, 1497))

    def test_v2_connect_accept(self):
        self.assertEqual(bvlc.connect_accept(1, HUB, HUB_UUID), V[2])

    def test_v3_to_v6(self):
        self.assertEqual(bvlc.heartbeat_request(0x0102), V[3])
        self.assertEqual(bvlc.heartbeat_ack(0x0102), V[4])
        self.assertEqual(bvlc.disconnect_request(0x0203), V[5])
        self.assertEqual(bvlc.disconnect_ack(0x0203), V[6])

    def test_v7_v8_nak(self):
        self.assertEqual(bvlc.nak(1, bvlc.CONNECT_REQUEST, bvlc.NODE_DUPLICATE_VMAC), V[7])
        self.assertEqual(bvlc.nak(1, bvlc.CONNECT_REQUEST, 0x0071), V[8])
        r = bvlc.ResultPayload.decode(Message.decode(V[7]).payload)
        self.assertTrue(r.is_nak)
        self.assertEqual((r.for_function, r.error_marker, r.error_class, r.error_code),
                         (6, 0, 7, 151))

    def test_v9_v11_v13_npdu(self):
        self.assertEqual(bvlc.npdu(0xB5EC, B, NPDU), V[9])
        self.assertEqual(bvlc.npdu(0, B, NPDU, orig=A), V[11])
        self.assertEqual(bvlc.npdu(0x0010, bvlc.BROADCAST_VMAC, NPDU), V[13])

    def test_v15_v17_options(self):
        self.assertEqual(bvlc.npdu(0x0020, B, NPDU, data_options=[HeaderOption.secure_path()]),
                         V[15])
        self.assertEqual(
            bvlc.npdu(0x0030, B, NPDU,
                      dest_options=[HeaderOption.proprietary(555, 1, bytes.fromhex("C0FFEE"))],
                      data_options=[HeaderOption.secure_path()]),
            V[17])
        self.assertEqual(
            bvlc.npdu(0x0031, B, NPDU,
                      dest_options=[HeaderOption.proprietary(555, 1, must_understand=True)]),
            V[24])

    def test_v19_to_v23_other_functions(self):
        self.assertEqual(Message(bvlc.ADVERTISEMENT_SOLICITATION, 0x0040, dest=B).encode(),
                         V[19])
        self.assertEqual(Message(bvlc.ADVERTISEMENT, 0x0041, dest=A,
                                 payload=bytes([1, 0]) + (1600).to_bytes(2, "big")
                                 + (1497).to_bytes(2, "big")).encode(), V[20])
        self.assertEqual(Message(bvlc.ADDRESS_RESOLUTION, 0x0050, dest=B).encode(), V[21])
        self.assertEqual(Message(bvlc.ADDRESS_RESOLUTION_ACK, 0x0050, dest=A,
                                 payload=b"wss://10.0.0.5:4443").encode(), V[22])
        self.assertEqual(bvlc.proprietary(0x0060, B, 555, 7, bytes.fromhex("AABB")), V[23])

    def test_v25_v26_results(self):
        self.assertEqual(bvlc.nak(0x0031, bvlc.ENCAPSULATED_NPDU, bvlc.HEADER_NOT_UNDERSTOOD,
                                  error_marker=0x7F, dest=A), V[25])
        self.assertEqual(bvlc.nak(0x0070, 0x0D, bvlc.BVLC_FUNCTION_UNKNOWN, details=b"bad fn"),
                         V[26])
        r = bvlc.ResultPayload.decode(Message.decode(V[26]).payload)
        self.assertEqual(r.details, b"bad fn")

    def test_v27_fig_ab5(self):
        m = Message.decode(V[27])
        self.assertEqual(m.dest, HUB)
        self.assertEqual([o.marker for o in m.dest_options], [0xBF, 0x3F])
        self.assertEqual(m.dest_options[0].data, bytes.fromhex("022BBAC5ECC099"))
        self.assertEqual([o.marker for o in m.data_options], [0x01])
        self.assertEqual(m.payload, NPDU)


class HubRewrite(unittest.TestCase):
    PAIRS_UNICAST = [(9, 10), (11, 12), (15, 16), (17, 18), (27, 28)]
    PAIRS_BROADCAST = [(13, 14)]

    def test_unicast_rewrite(self):
        for i, o in self.PAIRS_UNICAST:
            with self.subTest(vector=i):
                self.assertEqual(bvlc.hub_unicast_rewrite(V[i], A), V[o])

    def test_broadcast_rewrite(self):
        for i, o in self.PAIRS_BROADCAST:
            with self.subTest(vector=i):
                self.assertEqual(bvlc.hub_broadcast_rewrite(V[i], A), V[o])
        # O+D(BC) form (bac_py) gives the same result
        bacpy = bvlc.npdu(0x0010, bvlc.BROADCAST_VMAC, NPDU, orig=A)
        self.assertEqual(bvlc.hub_broadcast_rewrite(bacpy, A), V[14])

    def test_sizes(self):
        self.assertEqual(len(V[12]), len(V[11]) - 6)
        self.assertEqual(len(V[14]), len(V[13]) + 6)
        self.assertEqual(len(V[10]), len(V[9]))


class DecodeErrors(unittest.TestCase):
    def test_short(self):
        for raw in ["", "0A", "0A00", "0A0001"]:
            with self.assertRaises(bvlc.DecodeError):
                Message.decode(bytes.fromhex(raw))

    def test_truncated_vmac(self):
        with self.assertRaises(bvlc.DecodeError):
            Message.decode(bytes.fromhex("0104B5EC12F0E1"))
        with self.assertRaises(bvlc.DecodeError):
            Message.decode(bytes.fromhex("010CB5EC02A1B2C3D4E512F0"))

    def test_truncated_options(self):
        # More bit set on the last entry
        with self.assertRaises(bvlc.DecodeError):
            Message.decode(bytes.fromhex("0105002012F0E1D2C3B4C1"))
        # header length runs past the end
        with self.assertRaises(bvlc.DecodeError):
            Message.decode(bytes.fromhex("0106003012F0E1D2C3B43F0006022B"))

    def test_reserved_flags(self):
        with self.assertRaises(bvlc.DecodeError):
            Message.decode(bytes.fromhex("0A100102"))
        self.assertEqual(Message.decode(bytes.fromhex("0A100102"), strict=False).reserved_flags,
                         0x10)

    def test_random_vmac_is_random48(self):
        for _ in range(100):
            v = bvlc.random_vmac()
            self.assertEqual(v[0] & 0x0F, 0x02)
            self.assertEqual(len(v), 6)


if __name__ == "__main__":
    unittest.main(verbosity=2)

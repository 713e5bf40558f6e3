#!/usr/bin/env python3
"""Regenerates the seed corpora in fuzz/corpus/ (deterministic; stdlib only).

   python3 fuzz/make_seeds.py

bvlc_decode: the 28 test vectors of docs/protocol.md (§7,
V1..V28) plus the error cases listed there; option_list: the option lists found in those
vectors and a few broken ones; http_upgrade: a valid upgrade request, refused variants
and hub replies; ws_session: masked client frames (binary, text, ping, pong, close, fragments);
client_hello: first records of TLS connections, whole, cut short and wrong;
bacnet_apdu and device: NPDUs with the device's requests (docs/bacnet-device.md vectors)
and the cases it rejects, aborts or ignores.
"""
import base64
import hashlib
import os
import struct
import sys

# The frame builder is shared with the integration tests (tests/integration/lib).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "integration"))
from lib import wsframe  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

VECTORS = {
    "V01_connect_request": "0600000102A1B2C3D4E500112233445566778899AABBCCDDEEFF064005D9",
    "V02_connect_accept": "07000001927BF71A96A2FFEEDDCCBBAA99887766554433221100177005D9",
    "V03_heartbeat_request": "0A000102",
    "V04_heartbeat_ack": "0B000102",
    "V05_disconnect_request": "08000203",
    "V06_disconnect_ack": "09000203",
    "V07_nak_duplicate_vmac": "0000000106010000070097",
    "V08_nak_bacpy_0071": "0000000106010000070071",
    "V09_unicast_d_only": "0104B5EC12F0E1D2C3B401040000010C0C000000051955",
    "V10_hub_to_b_for_v9": "0108B5EC02A1B2C3D4E501040000010C0C000000051955",
    "V11_unicast_o_and_d": "010C000002A1B2C3D4E512F0E1D2C3B401040000010C0C000000051955",
    "V12_hub_to_b_for_v11": "0108000002A1B2C3D4E501040000010C0C000000051955",
    "V13_broadcast": "01040010FFFFFFFFFFFF01040000010C0C000000051955",
    "V14_hub_broadcast_copy": "010C001002A1B2C3D4E5FFFFFFFFFFFF01040000010C0C000000051955",
    "V15_secure_path_data_option": "0105002012F0E1D2C3B44101040000010C0C000000051955",
    "V16_hub_to_b_for_v15": "0109002002A1B2C3D4E54101040000010C0C000000051955",
    "V17_proprietary_dest_option": "0107003012F0E1D2C3B43F0006022B01C0FFEE4101040000010C0C000000051955",
    "V18_hub_to_b_for_v17": "010B003002A1B2C3D4E53F0006022B01C0FFEE4101040000010C0C000000051955",
    "V19_advertisement_solicitation": "0504004012F0E1D2C3B4",
    "V20_advertisement": "0404004102A1B2C3D4E50100064005D9",
    "V21_address_resolution": "0204005012F0E1D2C3B4",
    "V22_address_resolution_ack": "0304005002A1B2C3D4E57773733A2F2F31302E302E302E353A34343433",
    "V23_proprietary_message": "0C04006012F0E1D2C3B4022B07AABB",
    "V24_must_understand_option": "0106003112F0E1D2C3B47F0003022B0101040000010C0C000000051955",
    "V25_nak_header_not_understood": "0004003102A1B2C3D4E501017F00070092",
    "V26_nak_function_unknown": "000000700D01000007008F62616420666E",
    "V27_fig_ab5": "0107B5EC927BF71A96A2BF0007022BBAC5ECC0993F00030309390101040000010C0C000000051955",
    "V28_hub_forward_v27": "010BB5EC02A1B2C3D4E5BF0007022BBAC5ECC0993F00030309390101040000010C0C000000051955",
    # The error cases of docs/protocol.md §7 "Short checks".
    "E1_short": "0A00",
    "E2_unknown_function": "0D040070112233445566",
    "E3_unknown_function_broadcast": "0D040070FFFFFFFFFFFF",
    "E4_payload_expected": "0104B5EC12F0E1D2C3B4",
    "E5_proprietary_option_without_data": "0102B5EC1F",
    "E6_heartbeat_with_origin": "0A080102010203040506",
}

OPTION_LISTS = {
    "secure_path": "41",
    "secure_path_in_dest": "01",
    "proprietary_then_secure_path": "BF0007022BBAC5ECC0993F0003030939",
    "proprietary_v17": "3F0006022B01C0FFEE",
    "must_understand_proprietary": "7F0003022B01",
    "proprietary_without_data": "1F",
    "proprietary_short_data": "3F0002022B",
    "unknown_type_with_data": "2500020102",
    "more_bit_on_last": "8141",
    "length_cut_short": "3F00",
    "data_runs_past_end": "3F00FF0102",
    "thirty_three_options": "85" * 32 + "05",
    "thirty_two_options": "85" * 31 + "05",
}

# bacnet_apdu: whole NPDUs as the device receives them (docs/bacnet-device.md).
BACNET_NPDUS = {
    "who_is_global": "0120FFFF00FF1008",
    "who_is_range": "010010080A0FA01A0FA0",
    "who_has_name": "010010073C00487562",
    "rp_object_name": "0104000501" "0C0C02000FA0194D",
    "rp_object_list_index_sa": "010402650 20C0C02000FA0194C2900".replace(" ", ""),
    "rp_hub_connection_status": "01040005030C0C0E0000011B400011",
    "rpm_v6": "01040005040E0C02000FA01E094D0970098B1F0C0E0000011E0A01AB1F",
    "rpm_all": "01040205050E0C02000FA01E09081F",
    "read_range_by_position": "010402750 71A0C0E0000011B4000113E2101310A3F".replace(" ", ""),
    "read_range_by_time": "01040005071A0C0E0000011B4000117EA47C051105B40A1E000031017F",
    "dcc_password": "0104000508110905190 12D0700736563726574".replace(" ", ""),
    "write_property": "01040005090F0C02000FA019553E44000000003F",
    "segmented_request": "01040C050100040C0C02000FA0194D",
    "segment_ack": "0100400503 04".replace(" ", ""),
    # A segmented response (RPM ALL of both objects, max-APDU 128, segments accepted, invoke
    # 9) and what a requester sends during it: the device target keeps state across inputs.
    "rpm_all_segmented": "0104027109 0E 0C02000FA01E09081F 0C0E0000011E09081F".replace(" ", ""),
    "segment_ack_window_4": "0100400900 04".replace(" ", ""),
    "segment_nak": "0100420901 04".replace(" ", ""),
    "client_abort": "0100700900",
    "source_address": "010E000506F26CE37A662A000501" "0C0C02000FA0194D",
    # NPDU header, then RP-ACK service data: what the target's response decoders read.
    "rp_ack_connection_status": "01000C0E0000011B4000113E"
        "09011EA47C051105B40A1E00001F2EA4FFFFFFFFB4FFFFFFFF2F3E0E1CC0A8016D0F1AC42E3F"
        "4D06F26CE37A662A5D1000112233445566778899AABBCCDDEEFF3F",
    "rp_truncated": "01040005010C0C02000FA0",
}

GOOD_KEY = wsframe.WS_KEY
BYSTANDER_VMAC = "02000000000B"   # connected by connection_fuzz.cpp before each input
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def request(method="GET", version="HTTP/1.1", upgrade="websocket", connection="Upgrade",
            key=GOOD_KEY, ws_version="13", protocol="hub.bsc.bacnet.org", extra=""):
    return wsframe.upgrade_request(key, version=ws_version, protocol=protocol, method=method,
                                   http=version, extra=extra, upgrade=upgrade,
                                   connection=connection, host="hub.example:4443")


SEED_MASK = b"\x37\xfa\x21\x3d"  # fixed, so the seeds are the same on every run


def ws_frame(opcode, payload=b"", fin=True, mask=SEED_MASK, rsv=0):
    return wsframe.ws_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask)


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, hexs in VECTORS.items():
        write("bvlc_decode", name, bytes.fromhex(hexs))
    for name, hexs in OPTION_LISTS.items():
        write("option_list", name, bytes.fromhex(hexs))
    for name, hexs in BACNET_NPDUS.items():
        write("bacnet_apdu", name, bytes.fromhex(hexs))
        write("device", name, bytes.fromhex(hexs))  # the same requests, now answered

    good = request()
    http = {
        "valid_upgrade": good,
        "valid_upgrade_early_ws_data": good + ws_frame(2, bytes.fromhex(VECTORS["V03_heartbeat_request"])),
        "valid_protocol_list": request(protocol="dc.bsc.bacnet.org, hub.bsc.bacnet.org",
                                       connection="keep-alive, Upgrade", upgrade="WebSocket"),
        "valid_split_headers": request(protocol="dc.bsc.bacnet.org",
                                       extra="Sec-WebSocket-Protocol: hub.bsc.bacnet.org\r\n"),
        "bad_post": request(method="POST"),
        "bad_http10": request(version="HTTP/1.0"),
        "bad_no_upgrade": request(upgrade=None),
        "bad_no_connection": request(connection=None),
        "bad_version_8": request(ws_version="8"),
        "bad_key_short": request(key="c2hvcnQ="),
        "bad_key_missing": request(key=None),
        "bad_direct_connect_protocol": request(protocol="dc.bsc.bacnet.org"),
        "bad_no_protocol": request(protocol=None),
        "bad_malformed": b"GET /\x00 HTTP/1.1\r\n\r\n",
        "bad_head_too_large": request(extra="X-Padding: " + "a" * 9000 + "\r\n"),
        "partial_head": good[:-2],
        "response_101": ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept(GOOD_KEY) +
                         "\r\nSec-WebSocket-Protocol: hub.bsc.bacnet.org\r\n\r\n").encode(),
        "response_101_bad_accept": ("HTTP/1.1 101 Switching Protocols\r\n"
                                    "Sec-WebSocket-Accept: AAAA\r\n\r\n").encode(),
        "response_400": (b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                         b"Content-Length: 4\r\n\r\nbad\n"),
    }
    for name, data in http.items():
        write("http_upgrade", name, data)

    npdu = bytes.fromhex(VECTORS["V09_unicast_d_only"])
    ws = {
        "binary_v9": ws_frame(2, npdu),
        "binary_heartbeat": ws_frame(2, bytes.fromhex(VECTORS["V03_heartbeat_request"])),
        "binary_bad_bvlc": ws_frame(2, bytes.fromhex(VECTORS["E2_unknown_function"])),
        "text": ws_frame(1, b"hello"),
        "ping": ws_frame(9, b"ping"),
        "pong": ws_frame(10, b"pong"),
        "close_1000": ws_frame(8, struct.pack(">H", 1000) + b"bye"),
        "close_empty": ws_frame(8),
        "binary_then_close": ws_frame(2, npdu) + ws_frame(8, struct.pack(">H", 1001)),
        "ping_binary_close": ws_frame(9, b"") + ws_frame(2, npdu) + ws_frame(8, struct.pack(">H", 1000)),
        "fragmented_binary": ws_frame(2, npdu[:10], fin=False) + ws_frame(9, b"x") +
                             ws_frame(0, npdu[10:]),
        "binary_16bit_length": ws_frame(2, bytes(range(256)) * 2),
        "binary_64bit_length_header": ws_frame(2, b"", mask=None)[:1] +
                                      bytes([0xFF]) + struct.pack(">Q", 70000) + b"\x01\x02\x03\x04",
        "unmasked_binary": ws_frame(2, npdu, mask=None),
        "rsv1_binary": ws_frame(2, npdu, rsv=4),
        "two_messages": ws_frame(2, npdu) + ws_frame(2, bytes.fromhex(VECTORS["V13_broadcast"])),
    }
    for name, data in ws.items():
        write("ws_session", name, data)

    # client_hello: first bytes of TLS connections (one record; the peek reads no further).
    def hello(suites, session_id=32, record_type=22, msg_type=1, cut=None):
        body = struct.pack(">H", 0x0303) + bytes(range(32)) + bytes([session_id]) + \
            b"\x5a" * session_id + struct.pack(">H", 2 * len(suites)) + \
            b"".join(struct.pack(">H", s) for s in suites) + b"\x01\x00" + \
            struct.pack(">H", 8) + bytes.fromhex("002b0003020304ff")
        msg = bytes([msg_type]) + struct.pack(">I", len(body))[1:] + body
        rec = bytes([record_type, 3, 1]) + struct.pack(">H", len(msg)) + msg
        return rec[:cut] if cut is not None else rec

    openssl_order = [0x1302, 0x1303, 0x1301]
    hellos = {
        "openssl_order": hello(openssl_order),
        "aes128_only_no_session_id": hello([0x1301], session_id=0),
        "with_tls12_suites": hello([0xC02B, 0xC02F, 0x1301, 0x1303, 0x00FF]),
        "cut_in_suites": hello(openssl_order, cut=5 + 4 + 2 + 32 + 1 + 32 + 3),
        "cut_in_header": hello(openssl_order, cut=3),
        "empty_suites": hello([]),
        "server_hello_type": hello(openssl_order, msg_type=2),
        "alert_record": hello(openssl_order, record_type=21),
        "sslv2_hello": bytes.fromhex("802e0103010015000000100100800300800700c0"),
        "http_get": b"GET / HTTP/1.1\r\n\r\n",
    }
    for name, data in hellos.items():
        write("client_hello", name, data)

    # connection: one client's whole byte stream (upgrade, then frames) to a worker that
    # already has the bystander 02:00:00:00:00:0B connected (see connection_fuzz.cpp).
    me, peer = "0A0000000001", BYSTANDER_VMAC
    connect = ws_frame(2, bytes.fromhex("06000001" + me + "00112233445566778899AABBCCDDEEFF"
                                        "05DC05D9"))

    def bin_hex(h):
        return ws_frame(2, bytes.fromhex(h))

    unicast = bin_hex("0104 0002" + peer + "01040000010C0C000000051955")
    conn = {
        "connect_only": good + connect,
        "unicast_heartbeat_disconnect": good + connect + unicast + bin_hex("0A000003") +
                                        bin_hex("08000004"),
        "broadcast": good + connect + bin_hex("01040005FFFFFFFFFFFF01040000010C0C000000051955"),
        "unicast_with_options": good + connect +
                                bin_hex("0107000612F0E1D2C3B43F0006022B01C0FFEE41"
                                        "01040000010C0C000000051955".replace("12F0E1D2C3B4", peer)),
        "address_resolution": good + connect + bin_hex("02040007" + peer),
        "unknown_function": good + connect + bin_hex("0D000008"),
        "duplicate_vmac": good + ws_frame(2, bytes.fromhex("06000009" + peer +
                                                           "00112233445566778899AABBCCDDEEFF"
                                                           "05DC05D9")),
        "replaces_bystander_uuid": good + ws_frame(2, bytes.fromhex(
            "0600000A" + me + "B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF05DC05D9")) + unicast,
        "before_connect": good + unicast + connect + unicast,
        "fragmented_unicast": good + connect + ws_frame(2, bytes.fromhex("0104000B" + peer),
                                                        fin=False) + ws_frame(9, b"p") +
                              ws_frame(0, bytes.fromhex("01040000010C0C000000051955")),
        "text_then_unicast": good + connect + ws_frame(1, b"x") + unicast,
        "close_then_unicast": good + connect + ws_frame(8, struct.pack(">H", 1000)) + unicast,
        "upgrade_refused": request(ws_version="8") + connect,
        "early_data_in_head_write": good + connect + unicast,
    }
    for name, data in conn.items():
        write("connection", name, data)
    fp = "ab" * 32
    uuid = "12345678-1234-1234-1234-123456789abc"
    admin = {
        "disconnect_vmac": "disconnect 02:A1:B2:C3:D4:E5\n",
        "disconnect_uuid": "disconnect " + uuid + "\n",
        "deny_add_note": "deny add certificate " + fp + " lost laptop, ticket 42\n",
        "deny_add_key_colons": "deny add key " + ":".join(["AB"] * 32) + "\n",
        "deny_remove_uuid": "deny remove uuid " + uuid + "\r\n",
        "deny_list": "deny list\n",
        "pin_list": "pin list\n",
        "pin_clear": "pin clear " + uuid + "\n",
        "reload": "reload\n",
        "history_all": "history vmac=020000000001 uuid=" + uuid + " since=1764669600000 limit=50\n",
        "unknown": "shutdown now\n",
        "reply_ok": "ok\nline one\n-\n\n",
        "reply_error": "error permission denied: uid 7 is not allowed\n\n",
        "reply_cut": "ok\nline|two|",
    }
    for name, text in admin.items():
        write("admin_command", name, text.encode())


if __name__ == "__main__":
    main()

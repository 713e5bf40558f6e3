// HubFunction without libuv or TLS: the template over fake nodes and a fake worker
// (core/hub_ports.hpp). Frames are the test vectors of docs/protocol.md §7 where one fits,
// so the expected bytes are the Std's, not re-derived from the code under test.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/hub_function_impl.hpp"
#include "core/routing_map.hpp"
#include "core/access_control.hpp"
#include "test_bytes.hpp"

using namespace bsc;
using namespace bsc::test;

namespace {

const Vmac kA{{0x02, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5}};
const Vmac kB{{0x12, 0xF0, 0xE1, 0xD2, 0xC3, 0xB4}};
const Vmac kC{{0x22, 0x01, 0x02, 0x03, 0x04, 0x05}};
const Vmac kHub{{0x92, 0x7B, 0xF7, 0x1A, 0x96, 0xA2}};
const Uuid kUuidA = *Uuid::parse("00112233445566778899AABBCCDDEEFF");
const Uuid kUuidB = *Uuid::parse("0102030405060708090A0B0C0D0E0F10");
const Uuid kUuidC = *Uuid::parse("1112131415161718191A1B1C1D1E1F20");
const Uuid kUuidHub = *Uuid::parse("FFEEDDCCBBAA99887766554433221100");
constexpr const char* kNpdu = "01040000010C0C000000051955";

struct FakeWorker;

// A node's connection: records what the hub function sends and does to it.
struct FakeNode {
  FakeWorker* worker = nullptr;
  ConnRef ref_;
  NodeState state_ = NodeState::kAwaitingRequest;
  Vmac vmac_;
  Uuid uuid_;
  uint16_t max_bvlc_ = 0;
  bool registered_ = false;
  std::string peer_ = "fake";
  std::string last_error_;
  std::vector<Bytes> sent;  // every frame queued for the peer, in order
  bool output_full = false;
  bool closed = false;
  uint16_t close_code = 0;
  std::string close_why;
  bool clean_end = false;            // end_cleanly() was called
  uint16_t refused_code = UINT16_MAX;  // note_refused()'s error code, if called

  ConnRef ref() const { return ref_; }
  NodeState state() const { return state_; }
  void set_state(NodeState s);
  bool routable() const { return !closed && state_ != NodeState::kAwaitingRequest; }
  const Vmac& vmac() const { return vmac_; }
  const Uuid& uuid() const { return uuid_; }
  void set_identity(const Vmac& v, const Uuid& u, uint16_t max_bvlc) {
    vmac_ = v;
    uuid_ = u;
    max_bvlc_ = max_bvlc;
  }
  bool registered() const { return registered_; }
  void set_registered(bool r) { registered_ = r; }
  uint16_t peer_max_bvlc() const { return max_bvlc_; }
  const std::string& peer() const { return peer_; }
  bool send_message(const uint8_t* data, size_t len) {
    if (output_full) return false;
    sent.emplace_back(data, data + len);
    return true;
  }
  bool send_broadcast_copy(const uint8_t* data, size_t len) { return send_message(data, len); }
  uint8_t* reserve_frame(size_t len) {
    if (output_full) return nullptr;
    sent.emplace_back(len);
    return sent.back().data();
  }
  void set_last_error(const char* why) { last_error_ = why; }
  void end_cleanly() { clean_end = true; }
  void note_refused(uint16_t code, const Vmac*, const Uuid*, const char*,
                    uint16_t error_class = 7) {
    refused_code = code;
    refused_class = error_class;
  }
  const PeerIdentity* peer_identity() const { return identity; }
  const PeerIdentity* identity = nullptr;  // the certificate TLS established, if any
  uint16_t refused_class = 0;
  void close(uint16_t code, const char* why);
};

// A worker: its node table, the CONNECTED list, a real RoutingMap, and a record of the
// frames handed to other workers.
struct FakeWorker {
  struct Remote {
    uint32_t worker;
    RecordKind kind;
    uint32_t slot;
    uint32_t generation;
    Bytes frame;
  };

  explicit FakeWorker(uint32_t count = 1) : count_(count) {
    log::g_level.store(int(log::Level::kOff));  // the hub function's event lines
    config_.hub_vmac = kHub;
    config_.hub_uuid = kUuidHub;
    config_.max_bvlc_length = 6000;
    config_.max_npdu_length = 1497;
  }

  ~FakeWorker() { log::g_level.store(saved_log_level_); }

  uint32_t id() const { return 0; }
  size_t worker_count() const { return count_; }
  const Config& config() const { return config_; }
  WorkerStats& stats() { return stats_; }
  RoutingMap& routing() { return routing_; }
  AccessControl* access() { return access_; }
  uint16_t next_message_id() { return next_message_id_++; }
  FakeNode* find(ConnRef ref) {
    if (ref.worker != 0 || ref.slot >= nodes.size()) return nullptr;
    FakeNode* n = nodes[ref.slot].get();
    return n->ref_.generation == ref.generation ? n : nullptr;
  }
  const std::vector<FakeNode*>& connected() const { return connected_; }
  uint8_t* remote_reserve(uint32_t worker, RecordKind kind, uint32_t slot, uint32_t generation,
                          size_t len) {
    remote.push_back({worker, kind, slot, generation, Bytes(len)});
    return remote.back().frame.data();
  }

  FakeNode& add_node() {
    nodes.push_back(std::make_unique<FakeNode>());
    FakeNode& n = *nodes.back();
    n.worker = this;
    n.ref_ = ConnRef{0, uint32_t(nodes.size() - 1), 1};
    return n;
  }
  void receive(FakeNode& from, const Bytes& frame) {
    hub.on_message(from, frame.data(), frame.size());
  }
  // A new node that sent a Connect-Request (V1's form, Message ID 1).
  FakeNode& request(const Vmac& vmac, const Uuid& uuid, uint16_t max_bvlc = 1600,
                    const PeerIdentity* identity = nullptr) {
    FakeNode& n = add_node();
    n.identity = identity;
    Bytes req;
    encode_connect_request(req, 1, ConnectPayload{vmac, uuid, max_bvlc, 1497});
    receive(n, req);
    return n;
  }
  // A node that was accepted; its output cleared.
  FakeNode& connect(const Vmac& vmac, const Uuid& uuid, uint16_t max_bvlc = 1600) {
    FakeNode& n = request(vmac, uuid, max_bvlc);
    REQUIRE(n.state() == NodeState::kConnected);
    n.sent.clear();
    return n;
  }

  int saved_log_level_ = log::g_level.load();
  uint32_t count_;
  Config config_;
  WorkerStats stats_;
  RoutingMap routing_{kHub, 64};
  AccessControl* access_ = nullptr;
  uint16_t next_message_id_ = 0x0203;
  std::vector<std::unique_ptr<FakeNode>> nodes;
  std::vector<FakeNode*> connected_;
  std::deque<Remote> remote;  // deque: reserved frames stay where they are
  BasicHubFunction<FakeWorker, FakeNode> hub{*this};
};

// As Connection: entering or leaving kConnected moves the node in or out of connected().
void FakeNode::set_state(NodeState s) {
  auto& list = worker->connected_;
  if (state_ == NodeState::kConnected && s != NodeState::kConnected)
    list.erase(std::remove(list.begin(), list.end(), this), list.end());
  if (state_ != NodeState::kConnected && s == NodeState::kConnected) list.push_back(this);
  state_ = s;
}

// As Connection::close: leaves the CONNECTED list and the routing map at once.
void FakeNode::close(uint16_t code, const char* why) {
  if (closed) return;
  closed = true;
  close_code = code;
  close_why = why;
  auto& list = worker->connected_;
  list.erase(std::remove(list.begin(), list.end(), this), list.end());
  worker->hub.on_leaving(*this);
}

static_assert(HubNode<FakeNode> && HubWorker<FakeWorker, FakeNode>);

std::vector<std::string> sent_hex(const FakeNode& n) {
  std::vector<std::string> out;
  for (const Bytes& b : n.sent) out.push_back(to_hex(b));
  return out;
}

}  // namespace

TEST_CASE("HubFunction: Connect-Request gets Connect-Accept and registers the node") {
  FakeWorker w;
  FakeNode& a = w.add_node();
  w.receive(a, hex("0600000102A1B2C3D4E500112233445566778899AABBCCDDEEFF064005D9"));  // V1
  // V2: the hub's VMAC and UUID, max BVLC 6000, max NPDU 1497, the request's Message ID.
  CHECK(sent_hex(a) == std::vector<std::string>{
                           "07000001927BF71A96A2FFEEDDCCBBAA99887766554433221100177005D9"});
  CHECK(a.state() == NodeState::kConnected);
  CHECK(a.registered());
  CHECK(a.vmac() == kA);
  CHECK(a.peer_max_bvlc() == 1600);
  CHECK(w.connected() == std::vector<FakeNode*>{&a});
  REQUIRE(w.routing().lookup(kA).has_value());
  CHECK(*w.routing().lookup(kA) == a.ref());
  CHECK(w.stats().nodes_connected.load() == 1);
}

TEST_CASE("HubFunction: messages before Connect-Request are dropped") {
  FakeWorker w;
  FakeNode& a = w.add_node();
  w.receive(a, hex("0A000102"));  // V3 Heartbeat-Request
  CHECK(a.sent.empty());
  CHECK(a.state() == NodeState::kAwaitingRequest);
  CHECK(w.stats().drop_not_connected.load() == 1);
}

TEST_CASE("HubFunction: a duplicate VMAC gets the Std's NAK and is closed") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& b = w.request(kA, kUuidB);
  // V7: BVLC-Result NAK for Connect-Request, NODE_DUPLICATE_VMAC (151), no error details.
  CHECK(sent_hex(b) == std::vector<std::string>{"0000000106010000070097"});
  CHECK(b.closed);
  CHECK(b.close_code == ws_close::kNormal);
  CHECK_FALSE(b.registered());
  CHECK(w.stats().duplicate_vmac.load() == 1);
  CHECK(w.stats().naks_sent.load() == 1);
  CHECK(b.refused_code == 151);  // a failed connection request: node-duplicate-vmac
  CHECK_FALSE(b.clean_end);
  // The first holder keeps its VMAC.
  CHECK(*w.routing().lookup(kA) == a.ref());
  CHECK(w.connected() == std::vector<FakeNode*>{&a});
}

TEST_CASE("HubFunction: the hub's own VMAC is a duplicate, a reserved VMAC out of range") {
  FakeWorker w;
  FakeNode& h = w.request(kHub, kUuidB);
  CHECK(sent_hex(h) == std::vector<std::string>{"0000000106010000070097"});
  CHECK(h.closed);

  FakeNode& r = w.request(Vmac::broadcast(), kUuidC);
  REQUIRE(r.sent.size() == 1);
  const DecodeResult d = decode(r.sent[0]);
  REQUIRE(d.ok);
  const ResultPayload p =
      decode_result_payload({r.sent[0].data() + d.msg.payload.offset, d.msg.payload.length});
  CHECK(p.result_code == 1);
  CHECK(p.error_code == uint16_t(ErrorCode::kParameterOutOfRange));
  CHECK(r.closed);
}

TEST_CASE("HubFunction: the same UUID reconnecting retires the old connection") {
  FakeWorker w;
  FakeNode& old = w.connect(kA, kUuidA);
  FakeNode& fresh = w.connect(kA, kUuidA);
  CHECK(w.stats().nodes_replaced.load() == 1);
  CHECK(*w.routing().lookup(kA) == fresh.ref());
  // The old one is asked to go (Disconnect-Request with the hub's next Message ID) and no
  // longer owns the routing entries: its close must not remove its successor's.
  CHECK(sent_hex(old) == std::vector<std::string>{"08000203"});
  CHECK(old.state() == NodeState::kDisconnecting);
  CHECK_FALSE(old.registered());
  CHECK(w.connected() == std::vector<FakeNode*>{&fresh});
  w.receive(old, hex("09000203"));  // its Disconnect-ACK ends it
  CHECK(old.closed);
  CHECK(*w.routing().lookup(kA) == fresh.ref());
}

TEST_CASE("HubFunction: a UUID reconnecting on another worker sends that worker a notice") {
  FakeWorker w(2);
  ConnRef elsewhere{1, 9, 4};
  ConnRef replaced;
  REQUIRE(w.routing().claim(kA, kUuidA, elsewhere, &replaced) == RoutingMap::Claim::kAccepted);
  FakeNode& fresh = w.connect(kA, kUuidA);
  REQUIRE(w.remote.size() == 1);
  CHECK(w.remote[0].worker == 1);
  CHECK(w.remote[0].kind == RecordKind::kReplaced);
  CHECK(w.remote[0].slot == 9);
  CHECK(w.remote[0].generation == 4);
  CHECK(*w.routing().lookup(kA) == fresh.ref());
}

TEST_CASE("HubFunction: unicast to a known VMAC is rewritten and reaches only that node") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& b = w.connect(kB, kUuidB);
  FakeNode& c = w.connect(kC, kUuidC);
  // V9 (D = B) arrives from A; B gets V10: O = A added, D removed, the rest verbatim.
  w.receive(a, hex("0104B5EC12F0E1D2C3B401040000010C0C000000051955"));
  CHECK(sent_hex(b) == std::vector<std::string>{"0108B5EC02A1B2C3D4E501040000010C0C000000051955"});
  CHECK(a.sent.empty());
  CHECK(c.sent.empty());
  CHECK(w.stats().unicast_delivered.load() == 1);
  // A bac_py-form unicast (V11: O and D) is forwarded the same way (V12).
  b.sent.clear();
  w.receive(a, hex("010C000002A1B2C3D4E512F0E1D2C3B401040000010C0C000000051955"));
  CHECK(sent_hex(b) == std::vector<std::string>{"0108000002A1B2C3D4E501040000010C0C000000051955"});
}

TEST_CASE("HubFunction: a node may not claim another's VMAC as the origin") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& b = w.connect(kB, kUuidB);
  Bytes spoofed;
  encode_message(spoofed, Function::kEncapsulatedNpdu, 5, &kC, &kB, {}, {}, hex(kNpdu));
  w.receive(a, spoofed);
  CHECK(b.sent.empty());
  CHECK(w.stats().drop_spoofed_origin.load() == 1);
}

TEST_CASE("HubFunction: unicast to a VMAC on another worker goes into its batch") {
  FakeWorker w(2);
  FakeNode& a = w.connect(kA, kUuidA);
  ConnRef replaced;
  REQUIRE(w.routing().claim(kB, kUuidB, ConnRef{1, 3, 2}, &replaced) ==
          RoutingMap::Claim::kAccepted);
  w.receive(a, hex("0104B5EC12F0E1D2C3B401040000010C0C000000051955"));  // V9
  REQUIRE(w.remote.size() == 1);
  CHECK(w.remote[0].kind == RecordKind::kUnicast);
  CHECK(w.remote[0].slot == 3);
  CHECK(w.remote[0].generation == 2);
  CHECK(to_hex(w.remote[0].frame) == "0108B5EC02A1B2C3D4E501040000010C0C000000051955");  // V10
}

TEST_CASE("HubFunction: unicast to an unknown VMAC is discarded silently") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& b = w.connect(kB, kUuidB);
  Bytes frame;
  encode_message(frame, Function::kEncapsulatedNpdu, 5, nullptr, &kC, {}, {}, hex(kNpdu));
  w.receive(a, frame);
  // Std AB.5.3.2: no NAK to the sender, nothing to anyone else.
  CHECK(a.sent.empty());
  CHECK(b.sent.empty());
  CHECK(w.stats().drop_unknown_dest.load() == 1);
  CHECK(w.stats().naks_sent.load() == 0);
}

TEST_CASE("HubFunction: broadcast reaches every other CONNECTED node, never the sender") {
  FakeWorker w(2);
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& b = w.connect(kB, kUuidB);
  FakeNode& c = w.connect(kC, kUuidC);
  FakeNode& waiting = w.add_node();  // no Connect-Request yet: not a recipient
  // V13 from A; every other node gets V14 (O = A, D = broadcast).
  const std::string v14 = "010C001002A1B2C3D4E5FFFFFFFFFFFF01040000010C0C000000051955";
  w.receive(a, hex("01040010FFFFFFFFFFFF01040000010C0C000000051955"));
  CHECK(a.sent.empty());
  CHECK(sent_hex(b) == std::vector<std::string>{v14});
  CHECK(sent_hex(c) == std::vector<std::string>{v14});
  CHECK(waiting.sent.empty());
  CHECK(w.stats().broadcast_copies.load() == 2);
  // One record for the other worker, which fans it out to its own nodes.
  REQUIRE(w.remote.size() == 1);
  CHECK(w.remote[0].worker == 1);
  CHECK(w.remote[0].kind == RecordKind::kBroadcast);
  CHECK(to_hex(w.remote[0].frame) == v14);
}

TEST_CASE("HubFunction: only Encapsulated-NPDU and Proprietary-Message may be broadcast") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& b = w.connect(kB, kUuidB);
  const Vmac bc = Vmac::broadcast();
  Bytes frame;
  encode_message(frame, Function::kAddressResolution, 5, nullptr, &bc, {}, {}, {});
  w.receive(a, frame);
  CHECK(a.sent.empty());  // broadcasts are never NAKed
  CHECK(b.sent.empty());
  CHECK(w.stats().malformed.load() == 1);
}

TEST_CASE("HubFunction: Heartbeat-Request gets Heartbeat-ACK") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  w.receive(a, hex("0A000102"));  // V3
  CHECK(sent_hex(a) == std::vector<std::string>{"0B000102"});  // V4
  CHECK(w.stats().heartbeats_answered.load() == 1);
}

TEST_CASE("HubFunction: Disconnect-Request gets Disconnect-ACK and the node leaves") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& b = w.connect(kB, kUuidB);
  w.receive(a, hex("08000203"));                                // V5
  CHECK(sent_hex(a) == std::vector<std::string>{"09000203"});  // V6
  CHECK(a.closed);
  CHECK(a.clean_end);  // the history lists it not-connected, without error
  CHECK(a.close_code == ws_close::kNormal);
  CHECK_FALSE(a.registered());
  CHECK_FALSE(w.routing().lookup(kA).has_value());
  CHECK(w.connected() == std::vector<FakeNode*>{&b});
}

TEST_CASE("HubFunction: a frame above the recipient's max BVLC length is not sent to it") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& small = w.connect(kB, kUuidB, 1501);  // the least plausible max BVLC
  FakeNode& large = w.connect(kC, kUuidC, 6000);
  // Forwarded size: 4 + 6 (O) + NPDU; 1492 octets of NPDU make 1502 > 1501.
  Bytes npdu(1492, 0x55);
  Bytes frame;
  encode_message(frame, Function::kEncapsulatedNpdu, 5, nullptr, &kB, {}, {}, npdu);
  w.receive(a, frame);
  CHECK(small.sent.empty());
  CHECK(w.stats().drop_oversize.load() == 1);
  // A broadcast copy (4 + 6 + 6 + NPDU) skips the small node and reaches the large one.
  const Vmac bc = Vmac::broadcast();
  frame.clear();
  encode_message(frame, Function::kEncapsulatedNpdu, 6, nullptr, &bc, {}, {}, npdu);
  w.receive(a, frame);
  CHECK(small.sent.empty());
  CHECK(large.sent.size() == 1);
  CHECK(w.stats().drop_oversize.load() == 2);
  // One octet less fits exactly.
  npdu.pop_back();
  frame.clear();
  encode_message(frame, Function::kEncapsulatedNpdu, 7, nullptr, &kB, {}, {}, npdu);
  w.receive(a, frame);
  CHECK(small.sent.size() == 1);
}

TEST_CASE("HubFunction: a recipient with full output drops the frame and counts it") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  FakeNode& b = w.connect(kB, kUuidB);
  b.output_full = true;
  w.receive(a, hex("0104B5EC12F0E1D2C3B401040000010C0C000000051955"));  // V9
  CHECK(b.sent.empty());
  CHECK(w.stats().drop_output_full.load() == 1);
}

// ---- the hub's BACnet device (core/device.hpp) at the hub's VMAC ----

namespace {

// A FakeWorker whose hub function has the device, as worker 0 of a hub with `count` workers.
struct DeviceRig {
  FakeWorker w;
  std::unique_ptr<Device> device;
  explicit DeviceRig(uint32_t count) : w(count) {
    w.config_.device_instance = 4000;
    w.config_.device_name = "Hubster";
    w.config_.vendor_identifier = 260;
    device = std::make_unique<Device>(w.config_, "wss://127.0.0.1:4443");
    w.routing_.add_hub_entry(kDeviceRef);
    w.hub.attach_device(device.get());
  }
};

std::string hex_of(const char* text) { return to_hex(hex(text)); }

// The frames of docs/bacnet-device.md §12 and the shared doc's F1..F8, with our VMACs.
constexpr const char* kRpObjectName = "01 04 00 05 01 0C 0C 02 00 0F A0 19 4D";
constexpr const char* kAckObjectName =
    "01 00 30 01 0C 0C 02 00 0F A0 19 4D 3E 75 08 00 48 75 62 73 74 65 72 3F";
constexpr const char* kWhoIs = "01 20 FF FF 00 FF 10 08";
constexpr const char* kIAm = "01 20 FF FF 00 FF 10 00 C4 02 00 0F A0 22 05 C4 91 01 22 01 04";

}  // namespace

TEST_CASE("HubFunction: a unicast to the hub's VMAC reaches the device; its answer the sender") {
  DeviceRig rig(1);
  FakeNode& a = rig.w.connect(kA, kUuidA);
  FakeNode& b = rig.w.connect(kB, kUuidB);
  rig.w.receive(a, hex(std::string("01 04 00 03 92 7B F7 1A 96 A2 ") + kRpObjectName));
  // From the hub's VMAC with no destination, as a forwarded unicast (the hub's Message ID).
  std::string ack =
      hex_of((std::string("01 08 02 03 92 7B F7 1A 96 A2 ") + kAckObjectName).c_str());
  CHECK(sent_hex(a) == std::vector<std::string>{ack});
  CHECK(b.sent.empty());
  CHECK(rig.w.stats().drop_unknown_dest.load() == 0);
  // Not an Encapsulated-NPDU: dropped, as before the hub had a device.
  Bytes frame;
  encode_message(frame, Function::kProprietaryMessage, 9, nullptr, &kHub, {}, {},
                 hex("03 E8 01"));
  rig.w.receive(a, frame);
  CHECK(a.sent.size() == 1);
}

TEST_CASE("HubFunction: the device sees a broadcast once and its I-Am goes to everyone") {
  DeviceRig rig(2);
  FakeNode& a = rig.w.connect(kA, kUuidA);
  FakeNode& b = rig.w.connect(kB, kUuidB);
  rig.w.receive(a, hex(std::string("01 04 00 01 FF FF FF FF FF FF ") + kWhoIs));  // F1
  std::string who_is = hex_of(
      (std::string("01 0C 00 01 02 A1 B2 C3 D4 E5 FF FF FF FF FF FF ") + kWhoIs).c_str());
  std::string i_am = hex_of(
      (std::string("01 0C 02 03 92 7B F7 1A 96 A2 FF FF FF FF FF FF ") + kIAm).c_str());  // F4
  CHECK(sent_hex(a) == std::vector<std::string>{i_am});
  CHECK(sent_hex(b) == std::vector<std::string>{who_is, i_am});
  // Worker 1 gets both as one broadcast record each.
  REQUIRE(rig.w.remote.size() == 2);
  CHECK(rig.w.remote[0].kind == RecordKind::kBroadcast);
  CHECK(to_hex(rig.w.remote[0].frame) == who_is);
  CHECK(rig.w.remote[1].kind == RecordKind::kBroadcast);
  CHECK(to_hex(rig.w.remote[1].frame) == i_am);
}

TEST_CASE("HubFunction: frames from another worker reach the device; answers go back there") {
  DeviceRig rig(2);
  FakeNode& a = rig.w.connect(kA, kUuidA);
  ConnRef replaced;
  REQUIRE(rig.w.routing().claim(kC, kUuidC, ConnRef{1, 4, 7}, &replaced) ==
          RoutingMap::Claim::kAccepted);
  auto batch = std::make_unique<Batch>();
  auto add = [&](RecordKind kind, uint32_t slot, uint32_t generation, const Bytes& frame) {
    std::memcpy(batch->append(kind, slot, generation, frame.size()), frame.data(),
                frame.size());
  };
  // C's RP as worker 1 forwarded it (origin C, no destination), then C's Who-Is broadcast.
  add(RecordKind::kUnicast, kDeviceRef.slot, kDeviceRef.generation,
      hex(std::string("01 08 00 05 22 01 02 03 04 05 ") + kRpObjectName));
  add(RecordKind::kBroadcast, 0, 0,
      hex(std::string("01 0C 00 06 22 01 02 03 04 05 FF FF FF FF FF FF ") + kWhoIs));
  rig.w.hub.deliver_batch(*batch);
  REQUIRE(rig.w.remote.size() == 2);
  CHECK(rig.w.remote[0].kind == RecordKind::kUnicast);
  CHECK(rig.w.remote[0].worker == 1);
  CHECK(rig.w.remote[0].slot == 4);
  CHECK(rig.w.remote[0].generation == 7);
  CHECK(to_hex(rig.w.remote[0].frame) ==
        hex_of((std::string("01 08 02 03 92 7B F7 1A 96 A2 ") + kAckObjectName).c_str()));
  std::string i_am = hex_of(
      (std::string("01 0C 02 04 92 7B F7 1A 96 A2 FF FF FF FF FF FF ") + kIAm).c_str());
  CHECK(rig.w.remote[1].kind == RecordKind::kBroadcast);
  CHECK(to_hex(rig.w.remote[1].frame) == i_am);
  REQUIRE(a.sent.size() == 2);  // C's Who-Is, then the I-Am
  CHECK(to_hex(a.sent[1]) == i_am);
  CHECK(rig.w.stats().drop_stale_ref.load() == 0);
}

TEST_CASE("HubFunction: the device's segments reach the requester, its Segment-ACKs the device") {
  DeviceRig rig(1);
  FakeNode& a = rig.w.connect(kA, kUuidA);
  FakeNode& b = rig.w.connect(kB, kUuidB);
  // RPM ALL of both objects, segments accepted, max-APDU 128, invoke 9.
  rig.w.receive(a, hex("01 04 00 03 92 7B F7 1A 96 A2 01 04 02 71 09 0E 0C 02 00 0F A0 1E 09 "
                       "08 1F 0C 0E 00 00 01 1E 09 08 1F"));
  // Segment 0 alone, from the hub's VMAC: 01 08 msgid(2) origin(6) | 01 00 | 3C 09 00 10 0E.
  REQUIRE(a.sent.size() == 1);
  CHECK(to_hex(std::span(a.sent[0]).subspan(2 + 2, 6)) == to_hex(kHub.bytes));
  CHECK(to_hex(std::span(a.sent[0]).subspan(10, 7)) == "01003C0900100E");
  CHECK(a.sent[0].size() <= 10 + 2 + 128);
  // Its Segment-ACK (window 2) brings segments 1 and 2.
  rig.w.receive(a, hex("01 04 00 04 92 7B F7 1A 96 A2 01 00 40 09 00 02"));
  REQUIRE(a.sent.size() == 3);
  CHECK(a.sent[1][14] == 0x01);
  CHECK(a.sent[2][14] == 0x02);
  CHECK(b.sent.empty());
  CHECK(rig.device->transactions().size() == 1);
}

TEST_CASE("HubFunction: without a device the hub's VMAC is an unknown destination") {
  FakeWorker w;
  FakeNode& a = w.connect(kA, kUuidA);
  w.receive(a, hex(std::string("01 04 00 03 92 7B F7 1A 96 A2 ") + kRpObjectName));
  CHECK(a.sent.empty());
  CHECK(w.stats().drop_unknown_dest.load() == 1);
}

namespace {

PeerIdentity identity_with_key(uint8_t key_byte, uint8_t cert_byte) {
  PeerIdentity id;
  id.public_key.bytes.fill(key_byte);
  id.certificate.bytes.fill(cert_byte);
  id.subject = "CN=test";
  return id;
}

// The NAK's error class and code (octets 7..10 of a NAK without VMACs).
std::pair<int, int> nak_class_code(const Bytes& nak) {
  REQUIRE(nak.size() >= 11);
  REQUIRE(nak[0] == 0x00);  // BVLC-Result
  CHECK(nak[5] == 1);       // NAK
  return {(nak[7] << 8) | nak[8], (nak[9] << 8) | nak[10]};
}

}  // namespace

TEST_CASE("HubFunction: a pinned UUID claimed with another key is refused; the owner stays") {
  FakeWorker w;
  AccessControl access(IdentityBinding::kPin, 100, nullptr);
  w.access_ = &access;
  PeerIdentity owner = identity_with_key(1, 1), thief = identity_with_key(2, 2);
  FakeNode& a = w.request(kA, kUuidA, 1600, &owner);
  REQUIRE(a.state() == NodeState::kConnected);
  CHECK(access.pin_count() == 1);
  FakeNode& b = w.request(kB, kUuidA, 1600, &thief);
  CHECK(b.closed);
  REQUIRE(b.sent.size() == 1);
  CHECK(nak_class_code(b.sent[0]) == std::pair<int, int>{4, 85});  // SECURITY, ACCESS_DENIED
  CHECK(b.refused_code == 85);
  CHECK(b.refused_class == 4);
  CHECK(w.stats_.identity_refused.load() == 1);
  CHECK(a.state() == NodeState::kConnected);  // not replaced, still routed to
  CHECK(w.routing().lookup(kA)->slot == a.ref().slot);
  // The same key (a renewed certificate) replaces the old session as the Std says.
  PeerIdentity renewed = identity_with_key(1, 9);
  FakeNode& c = w.request(kA, kUuidA, 1600, &renewed);
  CHECK(c.state() == NodeState::kConnected);
  CHECK(w.stats_.nodes_replaced.load() == 1);
  // Cleared, the UUID pins again to whoever comes next.
  CHECK(access.clear_pin(kUuidA));
  FakeNode& d = w.request(kC, kUuidA, 1600, &thief);
  CHECK(d.state() == NodeState::kConnected);
}

TEST_CASE("HubFunction: a refused duplicate VMAC leaves no pin behind") {
  FakeWorker w;
  AccessControl access(IdentityBinding::kPin, 100, nullptr);
  w.access_ = &access;
  PeerIdentity one = identity_with_key(1, 1), two = identity_with_key(2, 2);
  w.request(kA, kUuidA, 1600, &one);
  FakeNode& b = w.request(kA, kUuidB, 1600, &two);  // VMAC taken by another UUID
  CHECK(b.closed);
  CHECK(access.pin_count() == 1);
}

TEST_CASE("HubFunction: --identity-binding certificate needs the UUID in the certificate") {
  FakeWorker w;
  AccessControl access(IdentityBinding::kCertificate, 100, nullptr);
  w.access_ = &access;
  PeerIdentity named = identity_with_key(1, 1);
  named.named_uuids.push_back(kUuidA);
  CHECK(w.request(kA, kUuidA, 1600, &named).state() == NodeState::kConnected);
  FakeNode& b = w.request(kB, kUuidB, 1600, &named);
  CHECK(b.closed);
  CHECK(nak_class_code(b.sent[0]) == std::pair<int, int>{4, 85});
  CHECK(access.pin_count() == 0);
}

TEST_CASE("HubFunction: a denied UUID is refused whatever its certificate; off pins nothing") {
  FakeWorker w;
  AccessControl access(IdentityBinding::kOff, 100, nullptr);
  w.access_ = &access;
  PeerIdentity one = identity_with_key(1, 1), two = identity_with_key(2, 2);
  CHECK(access.deny_add(DenyEntry{DenyEntry::Kind::kUuid, kUuidB.to_string(), "", 0}));
  FakeNode& b = w.request(kB, kUuidB, 1600, &one);
  CHECK(b.closed);
  CHECK(w.stats_.denied.load() == 1);
  CHECK(w.request(kA, kUuidA, 1600, &one).state() == NodeState::kConnected);
  CHECK(w.request(kC, kUuidA, 1600, &two).state() == NodeState::kConnected);  // replaces
  CHECK(access.pin_count() == 0);
}

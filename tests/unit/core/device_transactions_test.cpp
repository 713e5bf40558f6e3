// The device's segmented responses (core/device_transactions.hpp) on a fake clock: segment 0
// alone, windows after each Segment-ACK, NAKs, duplicates, timeouts and retries, the
// requester's Abort, and the bound on transactions in flight (clause 5.4.5).
#include <doctest/doctest.h>

#include <vector>

#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/npdu.hpp"
#include "bsc/bacnet/segmentation.hpp"
#include "core/device_transactions.hpp"

using bsc::DeviceTransactions;
using bsc::Vmac;
using namespace bsc::bacnet;

namespace {

constexpr uint32_t kTimeout = 100;  // ms, the fake T_seg
constexpr uint32_t kRetries = 2;

struct Sent {
  Vmac to;
  uint8_t invoke_id;
  uint8_t sequence;
  bool more;
  uint8_t window;
  std::vector<uint8_t> data;
};

struct Rig {
  std::vector<Sent> sent;
  DeviceTransactions table{bsc::SegmentTiming{kTimeout, kRetries},
                           [this](const Vmac& to, std::span<const uint8_t> npdu) {
                             Npdu n;
                             REQUIRE(decode_npdu(npdu, n) == Status::kOk);
                             auto apdu = npdu.subspan(n.header_size);
                             ApduHeader h;
                             REQUIRE(decode_apdu_header(apdu, h) == Status::kOk);
                             REQUIRE(h.type == PduType::kComplexAck);
                             REQUIRE(h.segmented);
                             auto body = apdu.subspan(h.header_size);
                             sent.push_back({to, h.invoke_id, h.sequence_number,
                                             h.more_follows, h.window_size,
                                             {body.begin(), body.end()}});
                           }};
  Npdu local{};  // a request from this network: no SNET/SADR
  std::vector<uint8_t> data;

  // A request (max-APDU 50, segments accepted, any number) answered with `octets` of ACK:
  // 45 octets of service data per segment.
  ApduHeader request(uint8_t invoke_id) {
    ApduHeader h;
    h.type = PduType::kConfirmedRequest;
    h.segmented_response_accepted = true;
    h.max_apdu_code = 0;
    h.invoke_id = invoke_id;
    h.service_choice = 14;
    return h;
  }
  bool open(const Vmac& vmac, uint8_t invoke_id, size_t octets, uint64_t now) {
    data.resize(octets);
    for (size_t i = 0; i < octets; ++i) data[i] = uint8_t(i);
    ApduHeader req = request(invoke_id);
    AckPlan plan = plan_complex_ack(octets, req, 1476, 256);
    REQUIRE(plan.fit == AckFit::kSegmented);
    const uint8_t npci[] = {0x01, 0x00};
    return table.open({vmac, &local}, req, plan, npci, data, now);
  }
  void ack(const Vmac& vmac, uint8_t invoke_id, uint8_t seq, uint8_t window, uint64_t now,
           bool nak = false) {
    ApduHeader h;
    h.type = PduType::kSegmentAck;
    h.negative_ack = nak;
    h.invoke_id = invoke_id;
    h.sequence_number = seq;
    h.window_size = window;
    table.on_pdu({vmac, &local}, h, now);
  }
  std::vector<uint8_t> sequences() const {
    std::vector<uint8_t> s;
    for (const Sent& x : sent) s.push_back(x.sequence);
    return s;
  }
};

const Vmac kA{{1, 2, 3, 4, 5, 6}};
const Vmac kB{{1, 2, 3, 4, 5, 7}};
using Seqs = std::vector<uint8_t>;

}  // namespace

TEST_CASE("device transactions: segment 0 alone, then windows of the requester's size") {
  Rig rig;
  REQUIRE(rig.open(kA, 7, 45 * 10, 1000));  // 10 segments
  CHECK(rig.sequences() == Seqs{0});
  CHECK(rig.sent[0].to == kA);
  CHECK(rig.sent[0].invoke_id == 7);
  CHECK(rig.sent[0].more);
  CHECK(rig.sent[0].window == DeviceTransactions::kProposedWindow);
  CHECK(rig.table.next_deadline() == 1000 + kTimeout);
  rig.sent.clear();
  rig.ack(kA, 7, 0, 4, 1010);
  CHECK(rig.sequences() == Seqs{1, 2, 3, 4});
  CHECK(rig.table.next_deadline() == 1010 + kTimeout);
  rig.sent.clear();
  rig.ack(kA, 7, 4, 4, 1020);
  CHECK(rig.sequences() == Seqs{5, 6, 7, 8});
  rig.sent.clear();
  rig.ack(kA, 7, 8, 4, 1030);
  REQUIRE(rig.sequences() == Seqs{9});
  CHECK_FALSE(rig.sent[0].more);  // the last segment
  // The segments carry the ACK in order.
  CHECK(rig.sent[0].data == std::vector<uint8_t>(rig.data.begin() + 405, rig.data.end()));
  rig.sent.clear();
  rig.ack(kA, 7, 9, 4, 1040);  // FinalACK_Received
  CHECK(rig.sent.empty());
  CHECK(rig.table.size() == 0);
  CHECK_FALSE(rig.table.next_deadline().has_value());
  CHECK(rig.table.counters().completed == 1);
}

TEST_CASE("device transactions: a window of 1, and a window above the proposed one is cut") {
  Rig rig;
  REQUIRE(rig.open(kA, 1, 45 * 40, 0));
  rig.sent.clear();
  rig.ack(kA, 1, 0, 1, 1);
  CHECK(rig.sequences() == Seqs{1});
  rig.sent.clear();
  rig.ack(kA, 1, 1, 127, 2);
  CHECK(rig.sent.size() == DeviceTransactions::kProposedWindow);
  CHECK(rig.sent.front().sequence == 2);
  CHECK(rig.sent.back().sequence == 2 + DeviceTransactions::kProposedWindow - 1);
}

TEST_CASE("device transactions: a NAK resends from the segment after the one it names") {
  Rig rig;
  REQUIRE(rig.open(kA, 2, 45 * 10, 0));
  rig.ack(kA, 2, 0, 3, 1);  // sends 1, 2, 3
  rig.sent.clear();
  rig.ack(kA, 2, 1, 3, 2, true);  // 2 was lost: 1 is the last received in order
  CHECK(rig.sequences() == Seqs{2, 3, 4});
  // A NAK that names the last segment means all arrived.
  rig.ack(kA, 2, 4, 8, 3);  // sends 5..9
  rig.sent.clear();
  rig.ack(kA, 2, 9, 8, 4, true);
  CHECK(rig.sent.empty());
  CHECK(rig.table.counters().completed == 1);
}

TEST_CASE("device transactions: an ACK outside the window only restarts the timer") {
  Rig rig;
  REQUIRE(rig.open(kA, 3, 45 * 10, 0));
  rig.ack(kA, 3, 0, 2, 10);  // sends 1, 2
  rig.sent.clear();
  rig.ack(kA, 3, 0, 2, 50);  // a duplicate of the first ACK
  rig.ack(kA, 3, 9, 2, 50);  // a segment not sent yet
  CHECK(rig.sent.empty());
  CHECK(rig.table.next_deadline() == 50 + kTimeout);
  // Another invoke ID, another requester, or an ACK "from a server": not this transaction.
  rig.ack(kA, 4, 1, 2, 60);
  rig.ack(kB, 3, 1, 2, 60);
  ApduHeader server_ack{.type = PduType::kSegmentAck, .from_server = true, .invoke_id = 3,
                        .sequence_number = 1, .window_size = 2};
  rig.table.on_pdu({kA, &rig.local}, server_ack, 60);
  CHECK(rig.sent.empty());
  CHECK(rig.table.next_deadline() == 50 + kTimeout);
}

TEST_CASE("device transactions: the window is sent again on timeout, then given up") {
  Rig rig;
  REQUIRE(rig.open(kA, 5, 45 * 10, 0));
  rig.ack(kA, 5, 0, 3, 0);  // sends 1, 2, 3
  rig.sent.clear();
  rig.table.on_timer(kTimeout - 1);
  CHECK(rig.sent.empty());
  for (uint32_t retry = 1; retry <= kRetries; ++retry) {
    rig.table.on_timer(retry * kTimeout);
    CHECK(rig.sequences() == Seqs{1, 2, 3});
    CHECK(rig.table.next_deadline() == (retry + 1) * kTimeout);
    rig.sent.clear();
  }
  rig.table.on_timer((kRetries + 1) * kTimeout);  // FinalTimeout: nothing is sent
  CHECK(rig.sent.empty());
  CHECK(rig.table.size() == 0);
  CHECK(rig.table.counters().timed_out == 1);
  CHECK_FALSE(rig.table.next_deadline().has_value());
}

TEST_CASE("device transactions: an ACK resets the retry count") {
  Rig rig;
  REQUIRE(rig.open(kA, 6, 45 * 10, 0));
  rig.table.on_timer(kTimeout);  // retry 1 of segment 0
  rig.table.on_timer(2 * kTimeout);  // retry 2
  rig.ack(kA, 6, 0, 1, 2 * kTimeout + 1);
  rig.sent.clear();
  rig.table.on_timer(3 * kTimeout + 1);  // retry 1 again: still open
  CHECK(rig.sequences() == Seqs{1});
  CHECK(rig.table.size() == 1);
}

TEST_CASE("device transactions: the requester's Abort ends its transaction") {
  Rig rig;
  REQUIRE(rig.open(kA, 8, 45 * 10, 0));
  REQUIRE(rig.open(kB, 8, 45 * 10, 0));
  CHECK(rig.table.in_flight({kA, &rig.local}, 8));
  CHECK_FALSE(rig.table.in_flight({kA, &rig.local}, 9));
  ApduHeader abort{.type = PduType::kAbort, .from_server = false, .invoke_id = 8, .reason = 0};
  rig.table.on_pdu({kA, &rig.local}, abort, 1);
  CHECK_FALSE(rig.table.in_flight({kA, &rig.local}, 8));
  CHECK(rig.table.in_flight({kB, &rig.local}, 8));
  CHECK(rig.table.counters().aborted == 1);
}

TEST_CASE("device transactions: a router's SNET/SADR is part of the key") {
  Rig rig;
  REQUIRE(rig.open(kA, 1, 45 * 10, 0));
  const uint8_t sadr[] = {0xAB, 0xCD};
  Npdu routed;
  routed.has_source = true;
  routed.source = {5, sadr};
  CHECK_FALSE(rig.table.in_flight({kA, &routed}, 1));
  CHECK(rig.table.in_flight({kA, &rig.local}, 1));
}

TEST_CASE("device transactions: at most kMaxTransactions in flight") {
  Rig rig;
  for (size_t i = 0; i < DeviceTransactions::kMaxTransactions; ++i)
    REQUIRE(rig.open(kA, uint8_t(i), 45 * 3, 0));
  rig.sent.clear();
  CHECK_FALSE(rig.open(kB, 0, 45 * 3, 0));
  CHECK(rig.sent.empty());
  CHECK(rig.table.counters().refused == 1);
  // One ends: there is room again.
  rig.ack(kA, 0, 0, 4, 1);
  rig.ack(kA, 0, 2, 4, 1);
  CHECK(rig.open(kB, 0, 45 * 3, 1));
  CHECK(rig.table.size() == DeviceTransactions::kMaxTransactions);
}

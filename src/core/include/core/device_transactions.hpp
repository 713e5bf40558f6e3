// DeviceTransactions: the segmented ComplexACKs the hub's device is sending (ASHRAE 135
// clause 5.4.5, the responding side's SEGMENTED_RESPONSE state; docs/bacnet-device.md §15).
// One entry per (requester, invoke ID): the whole ACK, the window, the retry count and a
// deadline. It sends segments through `Send`, reads no clock (times come in as `now_ms`), and
// says when it next needs the time (next_deadline()): the device arms one timer for that.
// Threads: the device's ([owner], worker 0's loop).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/npdu.hpp"
#include "bsc/bacnet/segmentation.hpp"
#include "bsc/vmac.hpp"

namespace bsc {

// The segment timer and retry count (clause 5.4.5: T_seg and N_retry), from the Config
// (--device-segment-timeout, --device-apdu-retries); the Device object reports the same
// values as APDU_Segment_Timeout and Number_Of_APDU_Retries.
struct SegmentTiming {
  uint32_t segment_timeout_ms;
  uint32_t retries;
};

// One segmented response in flight (a DeviceTransactions slot). At namespace scope, not
// nested: clang 14 judges a nested struct with member initializers not default-constructible
// while the enclosing class is incomplete, so std::optional<Transaction>::emplace() failed.
struct SegmentedTransaction {
  Vmac vmac;
  std::vector<uint8_t> source;  // the request's SNET/SADR as key octets (empty: local)
  bacnet::ApduHeader request;   // invoke ID, service choice
  bacnet::AckPlan plan;
  std::vector<uint8_t> npci;  // the reply's NPDU header
  std::vector<uint8_t> data;  // the whole ACK's service data
  size_t initial = 0;         // InitialSequenceNumber, as a segment index
  uint8_t window = 1;         // ActualWindowSize
  uint32_t retry_count = 0;   // SegmentRetryCount
  uint64_t deadline = 0;      // SegmentTimer expiry
};

class DeviceTransactions {
 public:
  // At most this many segmented responses in flight; one more request that needs segments
  // gets Abort out-of-resources (counted in `refused`).
  static constexpr size_t kMaxTransactions = 16;
  // The window the device proposes in each segment (20.1.2.8: 1..127); the requester's
  // Segment-ACK answers with the window it takes, at most this.
  static constexpr uint8_t kProposedWindow = 16;

  // One NPDU for the requester at `to` (its VMAC). The span is valid during the call only.
  using Send = std::function<void(const Vmac& to, std::span<const uint8_t> npdu)>;

  struct Counters {
    uint64_t opened = 0;     // segmented responses started
    uint64_t completed = 0;  // the final segment acknowledged
    uint64_t aborted = 0;    // the requester sent Abort
    uint64_t timed_out = 0;  // no Segment-ACK after the last retry
    uint64_t refused = 0;    // table full: Abort out-of-resources
  };

  DeviceTransactions(SegmentTiming timing, Send send);

  // Who the reply goes to: the requester's VMAC and, for a request from beyond a router, its
  // SNET/SADR; with the invoke ID this is the Std's transaction key.
  struct Peer {
    Vmac vmac;
    const bacnet::Npdu* npdu;  // the request's NPDU header (its source, if any)
  };

  // A ComplexACK of `plan.segments` segments (AckFit::kSegmented) for `request`: `npci` is
  // the reply's NPDU header, `service_data` the whole ACK after the APDU header. Sends
  // segment 0 alone (the requester's Segment-ACK then sets the window, clause 5.3) and arms
  // the segment timer. False (nothing sent, nothing kept) when the table is full.
  bool open(const Peer& peer, const bacnet::ApduHeader& request, const bacnet::AckPlan& plan,
            std::span<const uint8_t> npci, std::span<const uint8_t> service_data,
            uint64_t now_ms);

  // True if a transaction with this key is in flight: a repeated request is then a
  // duplicate and is dropped (DuplicateRequest in SEGMENTED_RESPONSE).
  bool in_flight(const Peer& peer, uint8_t invoke_id) const;

  // A Segment-ACK or a requester's Abort (decoded header `apdu`) from `peer`. PDUs for no
  // transaction in flight are ignored.
  void on_pdu(const Peer& peer, const bacnet::ApduHeader& apdu, uint64_t now_ms);

  // The segment timer: windows whose deadline passed are sent again or given up.
  void on_timer(uint64_t now_ms);

  // The earliest deadline of a transaction in flight; nullopt when none is.
  std::optional<uint64_t> next_deadline() const;

  size_t size() const;
  const Counters& counters() const { return counters_; }

 private:
  using Transaction = SegmentedTransaction;

  static std::vector<uint8_t> source_key(const bacnet::Npdu& npdu);
  Transaction* find(const Peer& peer, uint8_t invoke_id);
  void fill_window(Transaction& t, uint64_t now_ms);  // FillWindow(InitialSequenceNumber)
  void send_segment(const Transaction& t, size_t index);

  SegmentTiming timing_;
  Send send_;
  std::array<std::optional<Transaction>, kMaxTransactions> slots_;
  Counters counters_;
  std::vector<uint8_t> out_;  // one segment NPDU at a time
};

}  // namespace bsc

// Device: the hub's BACnet device (docs/bacnet-device.md §14), reached at the hub's VMAC.
// It takes the NPDU of every Encapsulated-NPDU addressed to the hub's VMAC and of every
// broadcast, and answers as a node with the hub's VMAC would: Who-Is -> I-Am and Who-Has ->
// I-Have (to everyone),
// ReadProperty, ReadPropertyMultiple and ReadRange -> ACK or Error,
// DeviceCommunicationControl -> SimpleACK or Error, other confirmed services -> Reject,
// segmented requests -> Abort (the codec's bsc/bacnet/device_request.hpp decides which).
// An ACK above the requester's max-APDU goes in segments when the request accepts them
// (core/device_transactions.hpp; docs/bacnet-device.md §15), else it is an Abort.
// DeviceCommunicationControl silences the device only; the hub function routes on.
//
// Request -> reply: it knows no connections. The hub function (core/hub_function_impl.hpp)
// hands it frames and sends the reply handle() returns, from the hub's VMAC. Segments go
// out through set_send()'s function, also the hub function's, during handle() or
// on_timer(); the worker that runs the device gives it a clock and one timer (set_timer()).
// Threads: one Device, owned by the Hub, used by worker 0's loop only ([owner]).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bsc/bacnet/device_request.hpp"
#include "bsc/vmac.hpp"
#include "core/config.hpp"
#include "core/device_objects.hpp"
#include "core/device_transactions.hpp"
#include "util/log_limiter.hpp"

namespace bsc {

struct DeviceReply {
  enum class To : uint8_t {
    kNobody,     // nothing to send
    kRequester,  // unicast to the VMAC the request came from
    kEveryone,   // a broadcast to every node (an I-Am)
  };
  To to = To::kNobody;
  std::span<const uint8_t> npdu{};  // valid until the next handle()
};

class Device {
 public:
  // REQUIRES: config.device_enabled(), config validated; `config` outlives the Device.
  Device(const Config& config, std::string hub_uri);
  Device(const Device&) = delete;  // its transactions call back into it
  Device& operator=(const Device&) = delete;

  // [startup] Where segments go: a unicast NPDU to the requester at a VMAC.
  void set_send(DeviceTransactions::Send send) { send_ = std::move(send); }
  // [startup] The loop's clock (milliseconds; segment timeouts and DCC durations), and the
  // timer: arm(delay) asks for on_timer() after `delay` ms, arm(nullopt) stops it. Without
  // them time stands still at 0 (tests).
  using Clock = std::function<uint64_t()>;
  using Arm = std::function<void(std::optional<uint64_t> delay_ms)>;
  void set_timer(Clock now, Arm arm);

  // [owner] One NPDU from `from` (a node's VMAC): the payload of an Encapsulated-NPDU
  // addressed to the hub's VMAC, or broadcast (`broadcast`: a confirmed request sent that
  // way is not answered).
  DeviceReply handle(std::span<const uint8_t> npdu, bool broadcast, const Vmac& from);
  // [owner] The timer armed through set_timer() fired.
  void on_timer();

  const DeviceObjects& objects() const { return objects_; }
  const DeviceTransactions& transactions() const { return transactions_; }

  // The most service data one ACK may carry, and in how many segments at most (the
  // sequence number is one octet). A larger ACK is an Abort.
  static constexpr size_t kMaxAckData = 64 * 1024;
  static constexpr size_t kMaxSegmentsSent = 256;
  // [owner] The DeviceCommunicationControl state in force (a duration that ran out is
  // applied by the next handle()).
  bacnet::EnableDisable communication() const { return communication_; }
  // [startup] The workers' connection histories (the Network Port's connection lists).
  void set_history(std::vector<const ConnectionHistory*> sources) {
    objects_.set_history(std::move(sources));
  }

 private:
  // The NPDU header of a reply to `req` (its priority; to its SNET/SADR if it has one), and
  // room after it for an APDU of at most `limit` octets.
  bacnet::Writer begin_reply(const bacnet::DeviceRequest& req, size_t limit);
  DeviceReply finish(const bacnet::Writer& apdu, DeviceReply::To to) const;

  // A writer for the service data of a ComplexACK (after the APDU header); complex_ack()
  // then sends it whole, in segments, or as the Abort that says why it cannot.
  bacnet::Writer begin_ack();
  DeviceReply complex_ack(const bacnet::DeviceRequest& req, const bacnet::Writer& ack);
  // The most service data complex_ack() can send to `req`'s requester, whole or in segments
  // (ReadRange returns fewer items rather than more than this).
  size_t ack_capacity(const bacnet::DeviceRequest& req) const;
  // The NPDU and APDU headers of an unsolicited global broadcast (I-Am, I-Have).
  bacnet::Writer begin_broadcast(bacnet::UnconfirmedService service);
  DeviceReply who_is(const bacnet::DeviceRequest& req);
  DeviceReply who_has(const bacnet::DeviceRequest& req);
  DeviceReply read_property(const bacnet::DeviceRequest& req);
  DeviceReply read_property_multiple(const bacnet::DeviceRequest& req);
  DeviceReply read_range(const bacnet::DeviceRequest& req);
  DeviceReply communication_control(const bacnet::DeviceRequest& req);
  // Whether DeviceCommunicationControl lets the device answer `req` (clause 16.1.2): after
  // a duration ran out, communication is enabled again.
  bool may_answer(const bacnet::DeviceRequest& req);
  DeviceReply simple_ack(const bacnet::DeviceRequest& req);
  DeviceReply error(const bacnet::DeviceRequest& req, bacnet::ErrorPair e);
  DeviceReply reject(const bacnet::DeviceRequest& req, bacnet::RejectReason reason);
  DeviceReply abort(const bacnet::DeviceRequest& req, bacnet::AbortReason reason);
  // A Segment-ACK or a requester's Abort, for a segmented response in flight.
  void segment_pdu(const bacnet::DeviceRequest& req);
  uint64_t now() const { return now_ ? now_() : 0; }
  void rearm();  // the timer, for the next deadline of a transaction in flight (or stopped)

  DeviceObjects objects_;
  DeviceTransactions::Send send_;
  Clock now_;
  Arm arm_;
  DeviceTransactions transactions_;
  Vmac from_{};  // the requester of the request being answered
  std::vector<uint8_t> ack_;  // kMaxAckData: the service data of the ACK being built
  const std::string& dcc_password_;  // "": any password (or none) is accepted
  bacnet::EnableDisable communication_ = bacnet::EnableDisable::kEnable;
  std::optional<uint64_t> enable_at_;  // now() when a DCC duration ends
  LogLimiter dcc_logs_;  // any node may send DCCs: their log lines are capped
  // NPDU header (at most 2 + DNET/DLEN/DADR 3 + 255 + hop count 1) + the largest APDU.
  static constexpr size_t kMaxNpci = 2 + 3 + 255 + 1;
  std::array<uint8_t, kMaxNpci + DeviceObjects::kMaxApdu> out_{};
  size_t npci_size_ = 0;  // of the reply being built
};

}  // namespace bsc

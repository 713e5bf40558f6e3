// Device: the hub's BACnet device (docs/bacnet-device.md §14), reached at the hub's VMAC.
// It takes the NPDU of every Encapsulated-NPDU addressed to the hub's VMAC and of every
// broadcast, and answers as a node with the hub's VMAC would: Who-Is -> I-Am and Who-Has ->
// I-Have (to everyone),
// ReadProperty, ReadPropertyMultiple and ReadRange -> ACK or Error,
// DeviceCommunicationControl -> SimpleACK or Error, other confirmed services -> Reject,
// segmented requests -> Abort (the codec's bsc/bacnet/device_request.hpp decides which).
// DeviceCommunicationControl silences the device only; the hub function routes on.
//
// Pure request -> reply: it neither sends nor knows connections. The hub function
// (core/hub_function_impl.hpp) hands it frames and sends its replies, from the hub's VMAC.
// Threads: one Device, owned by the Hub, used by worker 0's loop only ([owner]).
#pragma once
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "bsc/bacnet/device_request.hpp"
#include "core/config.hpp"
#include "core/device_objects.hpp"
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
  using Clock = std::chrono::steady_clock;
  // Read only while a DeviceCommunicationControl with a duration is in force, when a frame
  // reaches the device: the timer costs the loop nothing (tests pass a fake).
  using Now = Clock::time_point (*)();

  // REQUIRES: config.device_enabled(), config validated; `config` outlives the Device.
  Device(const Config& config, std::string hub_uri, Now now = &steady_now);
  static Clock::time_point steady_now() { return Clock::now(); }

  // [owner] One NPDU from a node: the payload of an Encapsulated-NPDU addressed to the hub's
  // VMAC, or broadcast (`broadcast`: a confirmed request sent that way is not answered).
  DeviceReply handle(std::span<const uint8_t> npdu, bool broadcast);

  const DeviceObjects& objects() const { return objects_; }
  // [owner] The DeviceCommunicationControl state in force (a duration that ran out is
  // applied by the next handle()).
  bacnet::EnableDisable communication() const { return communication_; }

 private:
  // The NPDU header of a reply to `req` (its priority; to its SNET/SADR if it has one), and
  // room after it for an APDU of at most `limit` octets.
  bacnet::Writer begin_reply(const bacnet::DeviceRequest& req, size_t limit);
  DeviceReply finish(const bacnet::Writer& apdu, DeviceReply::To to) const;

  // The NPDU and APDU headers of a ComplexACK to `req`, with room for the rest.
  bacnet::Writer begin_complex_ack(const bacnet::DeviceRequest& req);
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
  // A ComplexACK that did not fit the requester's max-APDU (or the device's): the device
  // does not segment, so it is the Abort of clause 5.4.5.
  DeviceReply too_long(const bacnet::DeviceRequest& req);
  // The largest APDU both sides accept for an answer to `req`.
  size_t apdu_limit(const bacnet::DeviceRequest& req) const;

  DeviceObjects objects_;
  const std::string& dcc_password_;  // "": any password (or none) is accepted
  Now now_;
  bacnet::EnableDisable communication_ = bacnet::EnableDisable::kEnable;
  std::optional<Clock::time_point> enable_at_;  // when a DCC duration ends
  LogLimiter dcc_logs_;  // any node may send DCCs: their log lines are capped
  // NPDU header (at most 2 + DNET/DLEN/DADR 3 + 255 + hop count 1) + the largest APDU.
  static constexpr size_t kMaxNpci = 2 + 3 + 255 + 1;
  std::array<uint8_t, kMaxNpci + DeviceObjects::kMaxApdu> out_{};
  size_t npci_size_ = 0;  // of the reply being built
};

}  // namespace bsc

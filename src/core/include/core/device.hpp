// Device: the hub's BACnet device (docs/bacnet-device.md §14), reached at the hub's VMAC.
// It takes the NPDU of every Encapsulated-NPDU addressed to the hub's VMAC and of every
// broadcast, and answers as a node with the hub's VMAC would: Who-Is -> I-Am and Who-Has ->
// I-Have (to everyone),
// ReadProperty and ReadPropertyMultiple -> ACK or Error, other confirmed services -> Reject,
// segmented requests -> Abort (the codec's bsc/bacnet/device_request.hpp decides which).
//
// Pure request -> reply: it neither sends nor knows connections. The hub function
// (core/hub_function_impl.hpp) hands it frames and sends its replies, from the hub's VMAC.
// Threads: one Device, owned by the Hub, used by worker 0's loop only ([owner]).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bsc/bacnet/device_request.hpp"
#include "core/config.hpp"
#include "core/device_objects.hpp"

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

  // [owner] One NPDU from a node: the payload of an Encapsulated-NPDU addressed to the hub's
  // VMAC, or broadcast (`broadcast`: a confirmed request sent that way is not answered).
  DeviceReply handle(std::span<const uint8_t> npdu, bool broadcast);

  const DeviceObjects& objects() const { return objects_; }
  // [startup] The workers' connection histories (the Network Port's connection lists).
  void set_history(std::vector<const ConnectionHistory*> sources) {
    objects_.set_history(std::move(sources));
  }

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
  DeviceReply error(const bacnet::DeviceRequest& req, bacnet::ErrorPair e);
  DeviceReply reject(const bacnet::DeviceRequest& req, bacnet::RejectReason reason);
  DeviceReply abort(const bacnet::DeviceRequest& req, bacnet::AbortReason reason);
  // A ComplexACK that did not fit the requester's max-APDU (or the device's): the device
  // does not segment, so it is the Abort of clause 5.4.5.
  DeviceReply too_long(const bacnet::DeviceRequest& req);
  // The largest APDU both sides accept for an answer to `req`.
  size_t apdu_limit(const bacnet::DeviceRequest& req) const;

  DeviceObjects objects_;
  // NPDU header (at most 2 + DNET/DLEN/DADR 3 + 255 + hop count 1) + the largest APDU.
  static constexpr size_t kMaxNpci = 2 + 3 + 255 + 1;
  std::array<uint8_t, kMaxNpci + DeviceObjects::kMaxApdu> out_{};
  size_t npci_size_ = 0;  // of the reply being built
};

}  // namespace bsc

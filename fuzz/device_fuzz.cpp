// libFuzzer target: the hub's BACnet device (bsc::Device::handle, core/device.hpp) on
// arbitrary NPDUs, as unicast and as broadcast: whatever it answers must be one well-formed
// NPDU whose APDU is of a kind the device may send (an I-Am or I-Have to everyone; a
// SimpleACK, ComplexACK, Error, Reject or Abort to the requester), within the largest APDU.
// Segments of segmented responses must be segmented ComplexACKs; the clock moves one second
// per input, so transactions opened by one input meet the Segment-ACKs and Aborts of the
// next ones, and time out. A DeviceCommunicationControl that silenced the device ends it:
// the next input meets a fresh one.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/npdu.hpp"
#include "core/config.hpp"
#include "core/device.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace bsc::bacnet;

const bsc::Config& config() {
  static const bsc::Config c = [] {
    bsc::Config c;
    c.hub_vmac = bsc::Vmac{{0x42, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5}};
    c.device_instance = 4000;
    c.device_name = "fuzz";
    return c;
  }();
  return c;
}

void check(const bsc::DeviceReply& r) {
  using To = bsc::DeviceReply::To;
  if (r.to == To::kNobody) return;
  Npdu n;
  FUZZ_CHECK(decode_npdu(r.npdu, n) == Status::kOk && !n.network_message);
  std::span<const uint8_t> apdu = r.npdu.subspan(n.header_size);
  FUZZ_CHECK(!apdu.empty() && apdu.size() <= bsc::DeviceObjects::kMaxApdu);
  ApduHeader h;
  FUZZ_CHECK(decode_apdu_header(apdu, h) == Status::kOk && !h.segmented);
  if (r.to == To::kEveryone) {
    FUZZ_CHECK(h.type == PduType::kUnconfirmedRequest && n.global_broadcast());
    FUZZ_CHECK(h.service_choice == uint8_t(UnconfirmedService::kIAm) ||
               h.service_choice == uint8_t(UnconfirmedService::kIHave));
    return;
  }
  FUZZ_CHECK(h.type == PduType::kSimpleAck || h.type == PduType::kComplexAck ||
             h.type == PduType::kError || h.type == PduType::kReject ||
             h.type == PduType::kAbort);
}

void check_segment(std::span<const uint8_t> npdu) {
  Npdu n;
  FUZZ_CHECK(decode_npdu(npdu, n) == Status::kOk && !n.network_message);
  std::span<const uint8_t> apdu = npdu.subspan(n.header_size);
  FUZZ_CHECK(!apdu.empty() && apdu.size() <= bsc::DeviceObjects::kMaxApdu);
  ApduHeader h;
  FUZZ_CHECK(decode_apdu_header(apdu, h) == Status::kOk);
  FUZZ_CHECK(h.type == PduType::kComplexAck && h.segmented);
}

uint64_t g_now = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::optional<bsc::Device> d;
  if (!d || d->communication() != EnableDisable::kEnable) {
    d.emplace(config(), "wss://127.0.0.1:4443");
    d->set_send([](const bsc::Vmac&, std::span<const uint8_t> npdu) { check_segment(npdu); });
    d->set_timer([] { return g_now; }, [](std::optional<uint64_t>) {});
  }
  static const bsc::Vmac from{{0x01, 0x02, 0x03, 0x04, 0x05, 0x06}};
  std::span<const uint8_t> in(data, size);
  check(d->handle(in, false, from));
  check(d->handle(in, true, from));
  g_now += 1000;
  d->on_timer();
  return 0;
}

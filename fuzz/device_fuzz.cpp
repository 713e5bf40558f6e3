// libFuzzer target: the hub's BACnet device (bsc::Device::handle, core/device.hpp) on
// arbitrary NPDUs, as unicast and as broadcast: whatever it answers must be one well-formed
// NPDU whose APDU is of a kind the device may send (an I-Am or I-Have to everyone; a
// SimpleACK, ComplexACK, Error, Reject or Abort to the requester), within the largest APDU.
// A fresh device per input: a DeviceCommunicationControl must not silence the next input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/npdu.hpp"
#include "core/config.hpp"
#include "core/device.hpp"

#define FUZZ_CHECK(cond)           \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  bsc::Device device(config(), "wss://127.0.0.1:4443");
  check(device.handle(in, false));
  check(device.handle(in, true));
  return 0;
}

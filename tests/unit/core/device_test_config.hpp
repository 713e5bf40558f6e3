// The configuration of the device the device tests talk to: instance 4000 "Hubster",
// vendor 260, the VMAC and UUID of docs/bacnet-device.md §12's vectors.
#pragma once
#include "core/config.hpp"

namespace bsc::test {

inline Config device_config() {
  Config c;
  c.hub_vmac = *Vmac::parse("42:A1:B2:C3:D4:E5");
  c.hub_uuid = *Uuid::parse("00112233-4455-6677-8899-aabbccddeeff");
  c.device_instance = 4000;
  c.device_name = "Hubster";
  c.vendor_identifier = 260;
  return c;
}

// The node the tests' requests come from.
inline const Vmac kRequester{{0x01, 0x02, 0x03, 0x04, 0x05, 0x06}};

}  // namespace bsc::test

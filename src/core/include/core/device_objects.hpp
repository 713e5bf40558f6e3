// The objects of the hub's BACnet device (docs/bacnet-device.md §14): the Device object and
// one Network Port object (instance 1) for the SC port the hub function serves. Which
// properties each has (required and optional, in the order ALL lists them), and their
// values from the running configuration. No key, certificate or other secret is an object.
//
// Reading is two steps so a ReadPropertyMultiple can open a result before it writes the
// value: error_of() says whether a property can be read, put_value() writes it.
//
// The two BACnetLIST properties of the port, SC_Hub_Function_Connection_Status and
// SC_Failed_Connection_Requests, come from the connection history of every worker
// (core/connection_history.hpp). begin_request() gathers it once; every value written until
// the next begin_request() comes from that one view, so a whole reply is consistent.
// list_size() and put_list_element() give a list's elements one by one (for ReadRange).
// Threads: built at [startup]; then used by the device's worker only ([owner]).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bsc/bacnet/apdu.hpp"
#include "bsc/bacnet/asn1_values.hpp"
#include "bsc/bacnet/services_read.hpp"
#include "core/config.hpp"
#include "core/connection_history.hpp"

namespace bsc {

// One property of an object: its identifier and whether the Std requires it.
struct PropertySpec {
  uint32_t id;
  bool required;
};

class DeviceObjects {
 public:
  static constexpr uint32_t kNetworkPortInstance = 1;
  static constexpr std::string_view kNetworkPortName = "SC hub port";
  static constexpr uint32_t kProtocolRevision = 24;  // the SC properties' revision
  static constexpr size_t kMaxApdu = 1476;            // the largest BACnet APDU

  // `hub_uri`: the URI the hub function accepts on (SC_Hub_Function_Accept_URIs), with the
  // port actually bound. REQUIRES: config.device_enabled(), config validated.
  DeviceObjects(const Config& config, std::string hub_uri);

  // [startup] The workers' histories the list properties read (none: the lists are empty).
  void set_history(std::vector<const ConnectionHistory*> sources) {
    history_sources_ = std::move(sources);
  }
  // [owner] Gathers the history for the request about to be answered.
  void begin_request();

  bacnet::ObjectId device_id() const;
  uint16_t vendor_identifier() const { return uint16_t(config_.vendor_identifier); }

  // The object `id` names, with the wildcard instance 4194303 ("this device", "the port the
  // request came through") resolved; nullopt if the device has no such object.
  std::optional<bacnet::ObjectId> resolve(bacnet::ObjectId id) const;
  // Who-Has (clause 16.9): the object with this identifier (no wildcard) or this name.
  std::optional<bacnet::ObjectId> find(bacnet::ObjectId id) const;
  std::optional<bacnet::ObjectId> find(std::string_view name) const;
  // The Object_Name of a resolved object.
  std::string_view object_name(bacnet::ObjectId object) const;
  // The properties of a resolved object, in ALL order (Object_Identifier first).
  std::span<const PropertySpec> properties(bacnet::ObjectId object) const;

  // Why (object, ref) cannot be read, or nullopt if it can. `object` is resolved.
  std::optional<bacnet::ErrorPair> error_of(bacnet::ObjectId object,
                                            const bacnet::PropertyRef& ref) const;
  // Writes the value (the whole property, or the array element ref.index; index 0 is the
  // array's size). REQUIRES: !error_of(object, ref).
  void put_value(bacnet::Writer& w, bacnet::ObjectId object,
                 const bacnet::PropertyRef& ref) const;

  // Element-wise access, for ReadRange (clause 15.8 reads a BACnetLIST or a BACnetARRAY by
  // position). A list property plugs in here: its size in list_size(), its entries in
  // put_list_element(); put_value() then writes the whole list from these two.
  // The number of items of a list or an array property of a resolved object, or nullopt if
  // the property is neither (or the object does not have it).
  std::optional<uint32_t> list_size(bacnet::ObjectId object, uint32_t property) const;
  // Writes item `index` (1-based). REQUIRES: 1 <= index <= *list_size(object, property).
  void put_list_element(bacnet::Writer& w, bacnet::ObjectId object, uint32_t property,
                        uint32_t index) const;
  // Whether the property is a BACnetARRAY (takes an array index) rather than a BACnetLIST.
  bool is_array(bacnet::ObjectId object, uint32_t property) const {
    return array_size(object, property).has_value();
  }

 private:
  bool has_property(bacnet::ObjectId object, uint32_t property) const;
  // Elements of an array property, or nullopt if the property is not an array.
  std::optional<uint32_t> array_size(bacnet::ObjectId object, uint32_t property) const;
  // REQUIRES: index 1..array_size().
  void put_element(bacnet::Writer& w, bacnet::ObjectId object, uint32_t property,
                   uint32_t index) const;
  // Entries of a BACnetLIST property, or nullopt if the property is not a list.
  std::optional<uint32_t> list_length(bacnet::ObjectId object, uint32_t property) const;
  // REQUIRES: index 1..list_length().
  void put_list_entry(bacnet::Writer& w, bacnet::ObjectId object, uint32_t property,
                      uint32_t index) const;
  // The Network Port's history lists, from the view begin_request() gathered
  // (port_connection_lists.cpp): entries, or nullopt for another property.
  std::optional<uint32_t> port_list_length(uint32_t property) const;
  void put_port_list_entry(bacnet::Writer& w, uint32_t property, uint32_t index) const;
  // The values of the two objects (device_object.cpp, network_port_object.cpp).
  void put_device_value(bacnet::Writer& w, uint32_t property) const;
  void put_port_value(bacnet::Writer& w, uint32_t property) const;

  const Config& config_;
  std::vector<const ConnectionHistory*> history_sources_;
  GatheredHistory history_;  // of the request being answered
  const std::string hub_uri_;
  const std::string binding_;  // SC_Hub_Function_Binding: HOST:PORT as bound
};

}  // namespace bsc

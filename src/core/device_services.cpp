// The services the hub's device executes (docs/bacnet-device.md §14): Who-Is, Who-Has,
// ReadProperty, ReadPropertyMultiple, ReadRange by position and DeviceCommunicationControl,
// and which requests DCC lets through. Replies are built with device.cpp's plumbing.
#include <algorithm>
#include <array>

#include "core/device.hpp"
#include "util/log.hpp"

namespace bsc {

using namespace bacnet;

namespace {

constexpr ErrorPair error_pair(bacnet::ErrorClass c, bacnet::ErrorCode e) {
  return ErrorPair{uint32_t(c), uint32_t(e)};
}
constexpr ErrorPair kUnknownObject =
    error_pair(bacnet::ErrorClass::kObject, bacnet::ErrorCode::kUnknownObject);
constexpr ErrorPair kNotAList =
    error_pair(bacnet::ErrorClass::kProperty, bacnet::ErrorCode::kPropertyIsNotAList);
constexpr ErrorPair kNotAnArray =
    error_pair(bacnet::ErrorClass::kProperty, bacnet::ErrorCode::kPropertyIsNotAnArray);
// ReadRange by sequence number or by time of a list whose items carry neither
// (docs/bacnet-device.md §14.2).
constexpr ErrorPair kNoSuchRange = error_pair(
    bacnet::ErrorClass::kServices, bacnet::ErrorCode::kOptionalFunctionalityNotSupported);
constexpr ErrorPair kPasswordFailure =
    error_pair(bacnet::ErrorClass::kSecurity, bacnet::ErrorCode::kPasswordFailure);

const char* state_name(EnableDisable s) {
  switch (s) {
    case EnableDisable::kEnable: return "enable";
    case EnableDisable::kDisable: return "disable";
    case EnableDisable::kDisableInitiation: return "disable-initiation";
  }
  return "?";
}

// The items a ReadRange selects, [first, last] (1-based; empty when first > last).
struct ItemRange {
  uint32_t first = 1;
  uint32_t last = 0;
  uint32_t count() const { return last >= first ? last - first + 1 : 0; }
};

// By position (clause 15.8.1.1.4.1): `count` items from the reference index on, or with a
// negative count the items up to it. A reference index that names no item, or a count of
// 0, selects nothing.
ItemRange by_position(uint32_t size, uint32_t reference, int16_t count) {
  if (count == 0 || reference < 1 || reference > size) return {};
  const int64_t ref = reference;
  if (count > 0) return {reference, uint32_t(std::min<int64_t>(size, ref + count - 1))};
  return {uint32_t(std::max<int64_t>(1, ref + count + 1)), reference};
}

}  // namespace

DeviceReply Device::who_is(const DeviceRequest& req) {
  ObjectId id = objects_.device_id();
  if (!req.who_is.range.contains(id.instance)) return {};
  // I-Am goes to everyone as a global broadcast (clause 16.10.2), whoever asked.
  Writer apdu = begin_broadcast(UnconfirmedService::kIAm);
  encode_i_am(apdu, IAm{id, uint32_t(DeviceObjects::kMaxApdu), Segmentation::kTransmit,
                        objects_.vendor_identifier()});
  return finish(apdu, DeviceReply::To::kEveryone);
}

DeviceReply Device::who_has(const DeviceRequest& req) {
  const WhoHas& q = req.who_has;
  if (!q.range.contains(objects_.device_id().instance)) return {};
  std::optional<ObjectId> found = q.by_name ? objects_.find(q.name) : objects_.find(q.object);
  if (!found) return {};  // the object is not here: others may answer (clause 16.9.2)
  // I-Have goes to everyone as a global broadcast, like I-Am.
  Writer apdu = begin_broadcast(UnconfirmedService::kIHave);
  encode_i_have(apdu, IHave{objects_.device_id(), *found, objects_.object_name(*found)});
  return finish(apdu, DeviceReply::To::kEveryone);
}

DeviceReply Device::read_property(const DeviceRequest& req) {
  ObjectPropertyRef ref = req.read_property;
  std::optional<ObjectId> object = objects_.resolve(ref.object);
  if (!object) return error(req, kUnknownObject);
  if (std::optional<ErrorPair> e = objects_.error_of(*object, ref.property)) return error(req, *e);
  ref.object = *object;  // the wildcard instance answered with the real one
  Writer w = begin_ack();
  encode_read_property_ack_begin(w, ref);
  objects_.put_value(w, *object, ref.property);
  encode_read_property_ack_end(w);
  return complex_ack(req, w);
}

DeviceReply Device::read_property_multiple(const DeviceRequest& req) {
  Writer w = begin_ack();
  // One result for (object, ref): its value or its error (clause 15.7.2).
  auto result = [&](ObjectId object, const PropertyRef& ref) {
    if (std::optional<ErrorPair> e = objects_.error_of(object, ref)) {
      rpm_put_error(w, ref, *e);
      return;
    }
    rpm_begin_value(w, ref);
    objects_.put_value(w, object, ref);
    rpm_end_value(w);
  };
  RpmParser requests(req.service_data);  // checked whole by the codec
  ObjectId asked;
  while (requests.next_object(asked)) {
    std::optional<ObjectId> object = objects_.resolve(asked);
    rpm_begin_object(w, object ? *object : asked);
    PropertyRef ref;
    while (requests.next_reference(ref)) {
      uint32_t p = ref.property;
      bool special = p == property::kAll || p == property::kRequired || p == property::kOptional;
      if (!object) {
        rpm_put_error(w, ref, kUnknownObject);
      } else if (!special) {
        result(*object, ref);
      } else {
        // ALL, REQUIRED and OPTIONAL expand to the object's properties, each with its own
        // identifier in the ACK (clause 15.7.3.1.2).
        for (const PropertySpec& spec : objects_.properties(*object)) {
          if ((p == property::kRequired && !spec.required) ||
              (p == property::kOptional && spec.required))
            continue;
          result(*object, PropertyRef{spec.id, false, 0});
        }
      }
    }
    rpm_end_object(w);
  }
  if (requests.status() != Status::kOk)
    return reject(req, reject_reason(requests.status()));  // not reached: validated
  return complex_ack(req, w);
}

DeviceReply Device::read_range(const DeviceRequest& req) {
  const ReadRangeRequest& q = req.read_range;
  std::optional<ObjectId> object = objects_.resolve(q.target.object);
  if (!object) return error(req, kUnknownObject);
  const uint32_t property = q.target.property.property;
  if (std::optional<ErrorPair> e = objects_.error_of(*object, PropertyRef{property, false, 0}))
    return error(req, *e);  // unknown-property
  std::optional<uint32_t> size = objects_.list_size(*object, property);
  // An index names one element of an array: none of the device's arrays holds lists.
  if (q.target.property.has_index)
    return error(req, objects_.is_array(*object, property) ? kNotAList : kNotAnArray);
  if (!size) return error(req, kNotAList);
  ItemRange want{1, *size};  // no range: the whole list
  if (q.kind == RangeKind::kBySequenceNumber || q.kind == RangeKind::kByTime)
    return error(req, kNoSuchRange);
  if (q.kind == RangeKind::kByPosition) want = by_position(*size, q.reference, q.count);
  const bool backwards = q.kind == RangeKind::kByPosition && q.count < 0;

  ReadRangeAck ack;
  ack.target = q.target;
  ack.target.object = *object;
  ack.item_count = want.count();
  // What the ACK needs besides the items: its header with the largest item count it can
  // carry and the closing tag of the items.
  std::array<uint8_t, DeviceObjects::kMaxApdu> scratch;
  Writer head(scratch);
  encode_read_range_ack_begin(head, ack);
  encode_read_range_ack_end(head, ack);
  const size_t capacity = ack_capacity(req);
  size_t room = capacity > head.size() ? capacity - head.size() : 0;
  // The items that fit, counted from the reference index in the direction of the read
  // (clause 15.8.2: fewer items and more-items rather than no answer).
  ItemRange got{want.first, want.first - 1};
  for (uint32_t n = 0; n < want.count(); ++n) {
    uint32_t i = backwards ? want.last - n : want.first + n;
    Writer item(std::span<uint8_t>(scratch).first(std::min(room, scratch.size())));
    objects_.put_list_element(item, *object, property, i);
    if (item.overflow()) break;
    room -= item.size();
    if (backwards) got = {i, want.last};
    else got = {want.first, i};
  }
  ack.item_count = got.count();
  ack.flags.first_item = got.count() > 0 && got.first == 1;
  ack.flags.last_item = got.count() > 0 && got.last == *size;
  ack.flags.more_items = got.count() < want.count();

  Writer w = begin_ack();
  encode_read_range_ack_begin(w, ack);
  for (uint32_t i = got.first; i <= got.last && got.count() > 0; ++i)
    objects_.put_list_element(w, *object, property, i);
  encode_read_range_ack_end(w, ack);
  return complex_ack(req, w);  // whole or in segments; an Abort if not even the empty ACK fits
}

DeviceReply Device::communication_control(const DeviceRequest& req) {
  const DccRequest& q = req.dcc;
  const uint64_t now_ms = now();
  const bool log = dcc_logs_.allow(now_ms, "device_communication");
  // With a password configured the request must carry it (clause 16.1); without one, any
  // password or none is accepted.
  if (!dcc_password_.empty() && (!q.has_password || q.password != dcc_password_)) {
    if (log) LOG_WARN("device_communication", "why=\"password failure\"");
    return error(req, kPasswordFailure);
  }
  communication_ = q.state;
  // A duration (minutes) ends disable and disable-initiation; none, or 0, is indefinite.
  enable_at_.reset();
  if (q.state != EnableDisable::kEnable && q.has_duration && q.duration_minutes > 0)
    enable_at_ = now_ms + uint64_t(q.duration_minutes) * 60'000;
  if (log)
    LOG_INFO("device_communication", "state=%s minutes=%u", state_name(q.state),
             enable_at_ ? unsigned(q.duration_minutes) : 0u);
  return simple_ack(req);
}

bool Device::may_answer(const DeviceRequest& req) {
  if (communication_ == EnableDisable::kEnable) return true;
  if (enable_at_ && now() >= *enable_at_) {
    LOG_INFO("device_communication", "state=enable why=\"duration over\"");
    communication_ = EnableDisable::kEnable;
    enable_at_.reset();
    return true;
  }
  bool dcc = req.apdu.type == PduType::kConfirmedRequest &&
             req.apdu.service_choice == uint8_t(ConfirmedService::kDeviceCommunicationControl);
  // disable: only DeviceCommunicationControl is answered (ReinitializeDevice too, which the
  // device does not execute). disable-initiation: everything is answered except that the
  // device initiates nothing; an I-Am that answers a Who-Is is the one exception (clause
  // 16.1.2), an I-Have is not.
  if (communication_ == EnableDisable::kDisable) return dcc;
  return req.service != DeviceService::kWhoHas;
}

}  // namespace bsc

// The device's segmented responses in flight: see core/device_transactions.hpp.
#include "core/device_transactions.hpp"

#include <algorithm>
#include <utility>

#include "bsc/bacnet/writer.hpp"

namespace bsc {

using namespace bacnet;

namespace {
// NPDU header (at most 2 + DNET/DLEN/DADR 3 + 255 + hop count 1) + the largest APDU.
constexpr size_t kMaxSegmentNpdu = 2 + 3 + 255 + 1 + 1476;
}  // namespace

DeviceTransactions::DeviceTransactions(SegmentTiming timing, Send send)
    : timing_(timing), send_(std::move(send)), out_(kMaxSegmentNpdu) {}

std::vector<uint8_t> DeviceTransactions::source_key(const Npdu& npdu) {
  if (!npdu.has_source) return {};
  std::vector<uint8_t> key{uint8_t(npdu.source.net >> 8), uint8_t(npdu.source.net)};
  key.insert(key.end(), npdu.source.mac.begin(), npdu.source.mac.end());
  return key;
}

DeviceTransactions::Transaction* DeviceTransactions::find(const Peer& peer, uint8_t invoke_id) {
  std::vector<uint8_t> source;  // allocates only for a request from beyond a router
  if (peer.npdu->has_source) source = source_key(*peer.npdu);
  for (std::optional<Transaction>& t : slots_) {
    if (t && t->vmac == peer.vmac && t->request.invoke_id == invoke_id && t->source == source)
      return &*t;
  }
  return nullptr;
}

bool DeviceTransactions::in_flight(const Peer& peer, uint8_t invoke_id) const {
  return const_cast<DeviceTransactions*>(this)->find(peer, invoke_id) != nullptr;
}

bool DeviceTransactions::open(const Peer& peer, const ApduHeader& request, const AckPlan& plan,
                              std::span<const uint8_t> npci,
                              std::span<const uint8_t> service_data, uint64_t now_ms) {
  auto free = std::find_if(slots_.begin(), slots_.end(), [](const auto& t) { return !t; });
  if (free == slots_.end()) {
    ++counters_.refused;
    return false;
  }
  // SendSegmentedComplexACK (5.4.5.1): segment 0 alone with ActualWindowSize 1, then wait.
  Transaction& t = free->emplace();
  t.vmac = peer.vmac;
  t.source = source_key(*peer.npdu);
  t.request = request;
  t.plan = plan;
  t.npci.assign(npci.begin(), npci.end());
  t.data.assign(service_data.begin(), service_data.end());
  ++counters_.opened;
  fill_window(t, now_ms);
  return true;
}

void DeviceTransactions::on_pdu(const Peer& peer, const ApduHeader& apdu, uint64_t now_ms) {
  // A Segment-ACK or Abort with `server` set answers a request of ours: the device sends none.
  if (apdu.from_server) return;
  Transaction* t = find(peer, apdu.invoke_id);
  if (!t) return;
  auto end = [&](uint64_t& counter) {
    ++counter;
    for (std::optional<Transaction>& slot : slots_)
      if (slot && &*slot == t) slot.reset();
  };
  if (apdu.type == PduType::kAbort) return end(counters_.aborted);  // AbortPDU_Received
  if (apdu.type != PduType::kSegmentAck) return;
  // InWindow(sequence-number, InitialSequenceNumber): within the window last sent (modulo
  // 256) and a segment that exists. Otherwise a duplicate: the timer restarts.
  const uint8_t offset = uint8_t(apdu.sequence_number - uint8_t(t->initial));
  const size_t index = t->initial + offset;
  if (offset >= t->window || index >= t->plan.segments) {
    t->deadline = now_ms + timing_.segment_timeout_ms;
    return;
  }
  // The last segment acknowledged (positively or not: a NAK names the last one received in
  // order): the transaction is done.
  if (index + 1 == t->plan.segments) return end(counters_.completed);
  // NewACK_Received: the window moves past the acknowledged segment and takes the size the
  // requester chose (never above what the device proposed). A NAK asks the same: resend
  // from the segment after the one it names.
  t->initial = index + 1;
  t->window = std::clamp<uint8_t>(apdu.window_size, 1, kProposedWindow);
  t->retry_count = 0;
  fill_window(*t, now_ms);
}

void DeviceTransactions::on_timer(uint64_t now_ms) {
  for (std::optional<Transaction>& t : slots_) {
    if (!t || t->deadline > now_ms) continue;
    if (t->retry_count < timing_.retries) {
      ++t->retry_count;  // Timeout: the same window again
      fill_window(*t, now_ms);
    } else {
      // FinalTimeout: back to IDLE without sending anything; the requester's own timers
      // end the transaction on its side.
      ++counters_.timed_out;
      t.reset();
    }
  }
}

std::optional<uint64_t> DeviceTransactions::next_deadline() const {
  std::optional<uint64_t> first;
  for (const std::optional<Transaction>& t : slots_)
    if (t && (!first || t->deadline < *first)) first = t->deadline;
  return first;
}

size_t DeviceTransactions::size() const {
  return size_t(std::count_if(slots_.begin(), slots_.end(), [](const auto& t) { return bool(t); }));
}

void DeviceTransactions::fill_window(Transaction& t, uint64_t now_ms) {
  const size_t end = std::min(t.initial + t.window, t.plan.segments);
  for (size_t i = t.initial; i < end; ++i) send_segment(t, i);
  t.deadline = now_ms + timing_.segment_timeout_ms;
}

void DeviceTransactions::send_segment(const Transaction& t, size_t index) {
  Writer w(out_);
  w.put(t.npci);
  // index < 256: plan_complex_ack() allows no more segments than sequence numbers.
  encode_complex_ack_segment(w, t.request, t.plan, t.data, uint8_t(index), kProposedWindow);
  if (send_) send_(t.vmac, w.written());
}

}  // namespace bsc

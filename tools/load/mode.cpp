#include "mode.hpp"

#include "broadcast_mode.hpp"
#include "echo_mode.hpp"
#include "idle_mode.hpp"
#include "rate_mode.hpp"
#include "shard.hpp"

namespace bsc::load {
namespace {
// Connect mode: the handshakes are the whole test; no traffic.
class ConnectMode final : public Mode {
 public:
  using Mode::Mode;
};
}  // namespace

std::unique_ptr<Mode> make_mode(Shard& shard) {
  switch (shard.options().mode) {
    case RunMode::kEcho:
      return std::make_unique<EchoMode>(shard);
    case RunMode::kRate:
      return std::make_unique<RateMode>(shard);
    case RunMode::kBroadcast:
      return std::make_unique<BroadcastMode>(shard);
    case RunMode::kIdle:
      return std::make_unique<IdleMode>(shard);
    case RunMode::kConnect:
      return std::make_unique<ConnectMode>(shard);
  }
  return nullptr;
}

}  // namespace bsc::load

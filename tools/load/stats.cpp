#include "stats.hpp"

namespace bsc::load {

void Counters::add(const Counters& o) {
#define BSC_X(name, text) name += o.name;
  BSC_LOAD_COUNTERS(BSC_X)
#undef BSC_X
}

void ShardStats::read(Counters* out) const {
#define BSC_X(name, text) out->name = name.load(std::memory_order_relaxed);
  BSC_LOAD_COUNTERS(BSC_X)
#undef BSC_X
}

}  // namespace bsc::load

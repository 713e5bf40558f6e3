#include <random>

#include "run_context.hpp"

namespace bsc::load {

void make_identities(RunContext& ctx, uint64_t seed) {
  std::mt19937_64 rng(seed);
  uint32_t n = ctx.opt.nodes;
  ctx.vmacs.resize(n);
  ctx.uuids.resize(n);
  ctx.vmac_index.reserve(n * 2);
  for (uint32_t i = 0; i < n; ++i) {
    Vmac v;
    do {
      uint64_t r = rng();
      for (int b = 0; b < 6; ++b) v.bytes[size_t(b)] = uint8_t(r >> (8 * b));
      // Random-48 (Clause H.7.3): low nibble of the first octet is 0010.
      v.bytes[0] = ctx.opt.vmac_prefix >= 0 ? uint8_t(ctx.opt.vmac_prefix)
                                            : uint8_t((v.bytes[0] & 0xF0) | 0x02);
    } while (v.is_unset() || v.is_broadcast() || ctx.vmac_index.count(v.key()));
    ctx.vmacs[i] = v;
    ctx.vmac_index.emplace(v.key(), i);
    Uuid u;
    uint64_t a = rng(), b = rng();
    for (int k = 0; k < 8; ++k) {
      u.bytes[size_t(k)] = uint8_t(a >> (8 * k));
      u.bytes[size_t(8 + k)] = uint8_t(b >> (8 * k));
    }
    u.bytes[6] = uint8_t((u.bytes[6] & 0x0F) | 0x40);  // version 4
    u.bytes[8] = uint8_t((u.bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    ctx.uuids[i] = u;
  }
}

}  // namespace bsc::load

// WebSocket framing on the hub's side (net/ws_session.hpp): parsing and unmasking client
// frames as they arrive, many per read (fast path and wslay), and writing the header of a
// forwarded (unmasked) server frame.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "net/ws_session.hpp"

namespace {

// Serves a prepared run of masked client frames; counts the messages that come out.
class Feed final : public bsc::WsSession::IO {
 public:
  std::vector<uint8_t> input;
  size_t pos = 0;
  size_t messages = 0;
  size_t ws_pull(uint8_t* buf, size_t cap) override {
    size_t n = std::min(cap, input.size() - pos);
    std::memcpy(buf, input.data() + pos, n);
    pos += n;
    return n;
  }
  void ws_push(const uint8_t*, size_t) override {}
  void ws_message(const uint8_t* data, size_t len) override {
    benchmark::DoNotOptimize(data[len - 1]);
    ++messages;
  }
  void ws_rejected(const char*) override {}
};

// A masked binary frame as a client sends it (RFC 6455 5.3).
void append_client_frame(std::vector<uint8_t>& out, size_t len) {
  out.push_back(0x82);
  if (len < 126) {
    out.push_back(uint8_t(0x80 | len));
  } else {
    out.push_back(0x80 | 126);
    out.push_back(uint8_t(len >> 8));
    out.push_back(uint8_t(len));
  }
  const uint8_t mask[4] = {0x37, 0xFA, 0x21, 0x3D};
  out.insert(out.end(), mask, mask + 4);
  for (size_t i = 0; i < len; ++i) out.push_back(uint8_t(0x5A ^ mask[i % 4]));
}

void BM_WsReceive(benchmark::State& state) {
  const size_t len = size_t(state.range(0));
  constexpr size_t kFrames = 64;  // one 64 KiB read's worth at 1 KB
  Feed feed;
  for (size_t i = 0; i < kFrames; ++i) append_client_frame(feed.input, len);
  for (auto _ : state) {
    state.PauseTiming();
    bsc::WsSession ws(&feed, bsc::WsSession::Role::kServer, 65536, state.range(1) != 0);
    feed.pos = 0;
    state.ResumeTiming();
    ws.receive();
  }
  if (feed.messages != state.iterations() * kFrames) state.SkipWithError("frames lost");
  state.SetItemsProcessed(int64_t(state.iterations() * kFrames));
  state.SetBytesProcessed(int64_t(state.iterations() * kFrames * len));
}
// Second argument: 1 = the fast path, 0 = every frame through wslay.
BENCHMARK(BM_WsReceive)->ArgNames({"len", "fast"})->ArgsProduct({{100, 1400}, {0, 1}});

void BM_WsServerFrameHeader(benchmark::State& state) {
  uint8_t out[bsc::WsSession::kMaxFrameHeader];
  size_t len = 100;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bsc::WsSession::binary_frame_header(out, len));
    len ^= 1400 ^ 100;
  }
}
BENCHMARK(BM_WsServerFrameHeader);

}  // namespace

BENCHMARK_MAIN();

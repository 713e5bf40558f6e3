// WsSession's receive fast path against wslay: whatever arrives, in whatever pieces, the
// session with the fast path delivers the same messages and sends the same frames as the one
// that passes everything through wslay (fast_receive = false).
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "net/ws_session.hpp"

using bsc::WsSession;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr size_t kMaxMessage = 4096;

// The peer's plaintext, offered a piece at a time; records what the session does.
class Peer final : public WsSession::IO {
 public:
  Bytes input;
  size_t offered = 0;
  size_t pos = 0;
  std::vector<Bytes> messages;
  Bytes output;  // frames the session sent
  int rejected = 0;

  size_t ws_pull(uint8_t* buf, size_t cap) override {
    size_t n = std::min(cap, offered - pos);
    std::memcpy(buf, input.data() + pos, n);
    pos += n;
    return n;
  }
  void ws_push(const uint8_t* data, size_t len) override {
    output.insert(output.end(), data, data + len);
  }
  void ws_message(const uint8_t* data, size_t len) override {
    messages.emplace_back(data, data + len);
  }
  void ws_rejected(const char*) override { ++rejected; }
};

struct Outcome {
  std::vector<Bytes> messages;
  Bytes output;
  int rejected = 0;
  bool failed = false;  // receive() returned false
  bool ended = false;
  bool close_received = false;
  bool operator==(const Outcome&) const = default;
};

// Feeds `input` in pieces of the given sizes (cycled), calling receive() after each.
Outcome run(const Bytes& input, const std::vector<size_t>& pieces, bool fast) {
  Peer peer;
  peer.input = input;
  WsSession ws(&peer, WsSession::Role::kServer, kMaxMessage, fast);
  Outcome o;
  for (size_t i = 0; peer.offered < input.size() && !o.failed; ++i) {
    peer.offered = std::min(input.size(), peer.offered + pieces[i % pieces.size()]);
    o.failed = !ws.receive();
  }
  o.messages = peer.messages;
  o.output = peer.output;
  o.rejected = peer.rejected;
  o.ended = ws.ended();
  o.close_received = ws.close_received();
  return o;
}

// A client frame; `long_form` forces a longer length encoding than needed.
Bytes frame(uint8_t opcode, const Bytes& payload, bool fin = true, bool masked = true,
            int long_form = 0, uint8_t rsv = 0) {
  Bytes f{uint8_t((fin ? 0x80 : 0) | rsv | opcode)};
  const uint8_t m = masked ? 0x80 : 0;
  const size_t n = payload.size();
  if (n < 126 && long_form == 0) {
    f.push_back(uint8_t(m | n));
  } else if (n <= 0xFFFF && long_form != 8) {
    f.push_back(uint8_t(m | 126));
    f.push_back(uint8_t(n >> 8));
    f.push_back(uint8_t(n));
  } else {
    f.push_back(uint8_t(m | 127));
    for (int i = 7; i >= 0; --i) f.push_back(uint8_t(uint64_t(n) >> (8 * i)));
  }
  const uint8_t key[4] = {0x9A, 0x03, 0x5C, 0xE1};
  if (masked) f.insert(f.end(), key, key + 4);
  for (size_t i = 0; i < n; ++i) f.push_back(masked ? uint8_t(payload[i] ^ key[i % 4]) : payload[i]);
  return f;
}

Bytes payload(size_t n, uint8_t seed) {
  Bytes p(n);
  for (size_t i = 0; i < n; ++i) p[i] = uint8_t(seed + i * 7);
  return p;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const std::vector<size_t> kWhole{1 << 20};
const std::vector<size_t> kOctets{1};
const std::vector<size_t> kOdd{3, 1, 7, 2, 13, 5, 64};

}  // namespace

TEST_CASE("binary frames of every length form arrive intact, in order, in any pieces") {
  const size_t sizes[] = {0, 1, 7, 8, 9, 125, 126, 1400, kMaxMessage};
  Bytes input;
  std::vector<Bytes> sent;
  for (size_t i = 0; i < std::size(sizes); ++i) {
    sent.push_back(payload(sizes[i], uint8_t(i)));
    Bytes f = frame(WSLAY_BINARY_FRAME, sent.back());
    input.insert(input.end(), f.begin(), f.end());
  }
  for (const auto& pieces : {kWhole, kOctets, kOdd}) {
    Outcome o = run(input, pieces, true);
    CHECK_FALSE(o.failed);
    CHECK_FALSE(o.ended);
    CHECK(o.messages == sent);
    CHECK(o.output.empty());
    CHECK(o == run(input, pieces, false));
  }
}

TEST_CASE("a fragmented message with a ping inside is reassembled; fast frames resume after it") {
  const Bytes a = payload(300, 1), b = payload(200, 2), c = payload(50, 3);
  const Bytes input = concat({frame(WSLAY_BINARY_FRAME, a, false),
                              frame(WSLAY_PING, {'h', 'i'}),
                              frame(WSLAY_CONTINUATION_FRAME, b, true),
                              frame(WSLAY_BINARY_FRAME, c)});
  Bytes ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  for (const auto& pieces : {kWhole, kOctets, kOdd}) {
    Outcome o = run(input, pieces, true);
    CHECK_FALSE(o.failed);
    REQUIRE(o.messages.size() == 2);
    CHECK(o.messages[0] == ab);
    CHECK(o.messages[1] == c);
    CHECK(o.output == Bytes{0x8A, 0x02, 'h', 'i'});  // the pong
    CHECK(o == run(input, pieces, false));
  }
}

TEST_CASE("a binary frame inside an unfinished message is a protocol error, as in wslay") {
  const Bytes input = concat({frame(WSLAY_BINARY_FRAME, payload(10, 1), false),
                              frame(WSLAY_BINARY_FRAME, payload(10, 2))});
  Outcome o = run(input, kWhole, true);
  CHECK(o.messages.empty());
  CHECK(o.ended);
  REQUIRE(o.output.size() >= 4);
  CHECK(o.output[0] == 0x88);  // Close ...
  CHECK(((o.output[2] << 8) | o.output[3]) == bsc::ws_close::kProtocolError);
  CHECK(o == run(input, kWhole, false));
}

TEST_CASE("frames the fast path leaves to wslay get wslay's answer") {
  const Bytes ok = frame(WSLAY_BINARY_FRAME, payload(20, 9));
  struct Case {
    const char* what;
    Bytes bad;
    uint16_t code;
  } cases[] = {
      {"unmasked client frame", frame(WSLAY_BINARY_FRAME, payload(20, 1), true, false),
       bsc::ws_close::kProtocolError},
      {"over the message cap", frame(WSLAY_BINARY_FRAME, payload(kMaxMessage + 1, 1)),
       bsc::ws_close::kTooBig},
      {"RSV bit set", frame(WSLAY_BINARY_FRAME, payload(20, 1), true, true, 0, 0x40),
       bsc::ws_close::kProtocolError},
      {"text frame", frame(WSLAY_TEXT_FRAME, {'x'}), bsc::ws_close::kUnsupportedData},
      {"16-bit length form for 20 octets", frame(WSLAY_BINARY_FRAME, payload(20, 1), true,
                                                 true, 2), 0},
      {"64-bit length form for 300 octets", frame(WSLAY_BINARY_FRAME, payload(300, 1), true,
                                                  true, 8), 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const Bytes input = concat({ok, c.bad, ok});
    for (const auto& pieces : {kWhole, kOctets, kOdd}) {
      Outcome o = run(input, pieces, true);
      CHECK(o == run(input, pieces, false));
      REQUIRE(!o.messages.empty());
      CHECK(o.messages[0] == payload(20, 9));
      if (c.code != 0) {
        CHECK(o.ended);
        CHECK(o.messages.size() == 1);  // nothing after the bad frame is delivered
        REQUIRE(o.output.size() >= 4);
        CHECK(((o.output[2] << 8) | o.output[3]) == c.code);
      }
    }
  }
}

TEST_CASE("after rejecting a text frame the peer's Close is still read") {
  const Bytes input = concat({frame(WSLAY_TEXT_FRAME, {'x'}),
                              frame(WSLAY_BINARY_FRAME, payload(20, 1)),
                              frame(WSLAY_CONNECTION_CLOSE, {0x03, 0xEB})});
  Outcome o = run(input, kOdd, true);
  CHECK(o.messages.empty());
  CHECK(o.rejected == 1);
  CHECK(o.close_received);
  CHECK(o == run(input, kOdd, false));
}

// Random streams of good and bad frames, cut at random places.
TEST_CASE("fast path and wslay agree on random frame streams") {
  std::mt19937 rng(20261124);
  auto pick = [&](size_t n) { return size_t(rng() % n); };
  for (int round = 0; round < 400; ++round) {
    Bytes input;
    const size_t frames = 1 + pick(12);
    for (size_t i = 0; i < frames; ++i) {
      const size_t len = pick(4) == 0 ? pick(kMaxMessage + 2) : pick(200);
      Bytes f;
      switch (pick(12)) {
        case 0: f = frame(WSLAY_BINARY_FRAME, payload(len, uint8_t(i)), false); break;
        case 1: f = frame(WSLAY_CONTINUATION_FRAME, payload(len, uint8_t(i)), pick(2)); break;
        case 2: f = frame(WSLAY_PING, payload(pick(126), uint8_t(i))); break;
        case 3: f = frame(WSLAY_BINARY_FRAME, payload(len, uint8_t(i)), true, pick(8) != 0); break;
        case 4: f = frame(WSLAY_BINARY_FRAME, payload(len, uint8_t(i)), true, true,
                          pick(2) ? 2 : 8); break;
        case 5: f = frame(uint8_t(pick(16)), payload(pick(130), uint8_t(i)), pick(2)); break;
        default: f = frame(WSLAY_BINARY_FRAME, payload(len, uint8_t(i))); break;
      }
      if (pick(40) == 0 && !f.empty()) f[pick(f.size())] ^= uint8_t(1 << pick(8));
      input.insert(input.end(), f.begin(), f.end());
    }
    std::vector<size_t> pieces;
    for (int i = 0; i < 8; ++i) pieces.push_back(1 + pick(pick(2) ? 16 : 3000));
    CAPTURE(round);
    CHECK(run(input, pieces, true) == run(input, pieces, false));
  }
}

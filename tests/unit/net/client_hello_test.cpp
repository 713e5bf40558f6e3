#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "net/client_hello.hpp"
#include "net/tls_context.hpp"

namespace {

using bsc::ClientHelloPeek;
using bsc::peek_client_hello;
using Bytes = std::vector<uint8_t>;
using S = ClientHelloPeek::Status;

void put16(Bytes* b, size_t v) {
  b->push_back(uint8_t(v >> 8));
  b->push_back(uint8_t(v));
}

// A TLS 1.3 ClientHello in one record, shaped like OpenSSL's: 32-octet legacy session id,
// the suites given, null compression and some extension bytes. *suites_end: the offset just
// past the cipher_suites list.
// Extension blocks for client_hello(): type, then the body as given.
Bytes extension(uint16_t type, const Bytes& body) {
  Bytes e;
  put16(&e, type);
  put16(&e, body.size());
  e.insert(e.end(), body.begin(), body.end());
  return e;
}
// A 16-bit-length vector of 16-bit ids (supported_groups, signature_algorithms).
Bytes id_list(const std::vector<uint16_t>& ids) {
  Bytes b;
  put16(&b, ids.size() * 2);
  for (uint16_t id : ids) put16(&b, id);
  return b;
}
Bytes alpn_list(const std::vector<std::string>& names) {
  Bytes list;
  for (const std::string& n : names) {
    list.push_back(uint8_t(n.size()));
    list.insert(list.end(), n.begin(), n.end());
  }
  Bytes b;
  put16(&b, list.size());
  b.insert(b.end(), list.begin(), list.end());
  return b;
}
// Forty octets of empty server_name extensions: well-formed, and nothing the peek reports.
const Bytes kPlainExtensions(40, 0x00);

Bytes client_hello(const std::vector<uint16_t>& suites, size_t* suites_end = nullptr,
                   size_t session_id_len = 32, const Bytes& extensions = kPlainExtensions) {
  Bytes body;
  body.reserve(512);  // also keeps GCC 12 from a false -Warray-bounds on the inserts
  put16(&body, 0x0303);                        // legacy_version
  body.insert(body.end(), 32, 0xA5);           // random
  body.push_back(uint8_t(session_id_len));     // legacy_session_id
  body.insert(body.end(), session_id_len, 0x11);
  put16(&body, suites.size() * 2);
  for (uint16_t s : suites) put16(&body, s);
  size_t suites_end_in_body = body.size();
  body.push_back(1);                           // legacy_compression_methods: null
  body.push_back(0);
  put16(&body, extensions.size());
  body.insert(body.end(), extensions.begin(), extensions.end());

  Bytes rec = {22, 3, 1};
  put16(&rec, 4 + body.size());
  rec.push_back(1);  // client_hello
  rec.push_back(uint8_t(body.size() >> 16));
  put16(&rec, body.size() & 0xFFFF);
  rec.insert(rec.end(), body.begin(), body.end());
  if (suites_end) *suites_end = 5 + 4 + suites_end_in_body;
  return rec;
}

ClientHelloPeek peek(const Bytes& b, size_t len) { return peek_client_hello(b.data(), len); }
ClientHelloPeek peek(const Bytes& b) { return peek(b, b.size()); }

const uint16_t kAes128 = 0x1301, kAes256 = 0x1302, kChaCha = 0x1303;

}  // namespace

TEST_CASE("client hello: the suite list of a complete hello, in the client's order") {
  Bytes b = client_hello({kAes256, kChaCha, kAes128});
  ClientHelloPeek p = peek(b);
  REQUIRE(p.status == S::kFound);
  CHECK(p.suites.size() == 3);
  CHECK(p.suites[0] == kAes256);
  CHECK(p.suites[2] == kAes128);
  CHECK(p.offers(kAes128));
  CHECK(p.offers(kChaCha));
  CHECK_FALSE(p.offers(0x1304));
  // Bytes after the record (the client's next flight) change nothing.
  Bytes more = b;
  more.insert(more.end(), {23, 3, 3, 0, 1, 0});
  CHECK(peek(more).status == S::kFound);
}

TEST_CASE("client hello: empty and short session ids") {
  CHECK(peek(client_hello({kAes128}, nullptr, 0)).status == S::kFound);
  CHECK(peek(client_hello({kAes128}, nullptr, 8)).offers(kAes128));
}

TEST_CASE("client hello: truncated anywhere before the end of the record: wait") {
  Bytes b = client_hello({kAes256, kAes128});
  for (size_t cut = 0; cut < b.size(); ++cut) {
    CAPTURE(cut);
    CHECK(peek(b, cut).status == S::kNeedMore);
  }
  CHECK(peek(b).status == S::kFound);
}

TEST_CASE("client hello: ALPN, groups, key shares and signature algorithms") {
  Bytes ext;
  auto add = [&](const Bytes& e) { ext.insert(ext.end(), e.begin(), e.end()); };
  add(extension(10, id_list({0x0018, 0x0019})));          // supported_groups: p384, p521
  add(extension(13, id_list({0x0403, 0x0804})));          // signature_algorithms
  Bytes shares;
  put16(&shares, 4 + 3 + 4 + 1);
  put16(&shares, 0x0018); put16(&shares, 3); shares.insert(shares.end(), {1, 2, 3});
  put16(&shares, 0x0019); put16(&shares, 1); shares.push_back(9);
  add(extension(51, shares));
  SUBCASE("libwebsockets' single token: no http/1.1 offered") {
    add(extension(16, alpn_list({"h2;http/1.1"})));
    const Bytes hello = client_hello({kAes128}, nullptr, 32, ext);  // p points into it
    ClientHelloPeek p = peek(hello);
    REQUIRE(p.status == S::kFound);
    REQUIRE(p.extensions_read);
    CHECK(p.offers_alpn("h2;http/1.1"));
    CHECK_FALSE(p.offers_alpn("http/1.1"));
    CHECK_FALSE(p.offers_alpn("h2"));
    CHECK(p.groups.size() == 2);
    CHECK(p.groups.contains(0x0019));
    CHECK_FALSE(p.groups.contains(0x0017));
    CHECK(p.signature_algorithms.contains(0x0804));
    std::vector<uint16_t> share_groups;
    p.for_each_key_share([&](uint16_t g) { share_groups.push_back(g); });
    CHECK(share_groups == std::vector<uint16_t>{0x0018, 0x0019});
  }
  SUBCASE("a list holding http/1.1 among others") {
    add(extension(16, alpn_list({"h2", "http/1.1"})));
    const Bytes hello = client_hello({kAes128}, nullptr, 32, ext);  // p points into it
    ClientHelloPeek p = peek(hello);
    REQUIRE(p.extensions_read);
    CHECK(p.offers_alpn("http/1.1"));
    CHECK(p.offers_alpn("h2"));
    CHECK_FALSE(p.offers_alpn("http/1"));
  }
  SUBCASE("no ALPN extension") {
    const Bytes hello = client_hello({kAes128}, nullptr, 32, ext);  // p points into it
    ClientHelloPeek p = peek(hello);
    REQUIRE(p.extensions_read);
    CHECK_FALSE(p.offers_alpn("http/1.1"));
  }
}

TEST_CASE("client hello: a malformed extension block reports no extension, keeps the suites") {
  Bytes bad_alpn = extension(16, Bytes{0, 4, 9, 'h', '2'});  // name longer than the list
  Bytes empty_name = extension(16, Bytes{0, 1, 0});
  Bytes odd_groups = extension(10, Bytes{0, 3, 0, 23, 0});
  Bytes zero_share = extension(51, Bytes{0, 4, 0, 23, 0, 0});
  Bytes overrun = extension(10, id_list({23}));
  overrun[3] = 40;  // extension longer than the block
  for (const Bytes& ext : {bad_alpn, empty_name, odd_groups, zero_share, overrun}) {
    const Bytes hello = client_hello({kAes128}, nullptr, 32, ext);  // p points into it
    ClientHelloPeek p = peek(hello);
    REQUIRE(p.status == S::kFound);
    CHECK(p.offers(kAes128));
    CHECK_FALSE(p.extensions_read);
    CHECK(p.alpn_len == 0);
    CHECK(p.groups.size() == 0);
  }
}

TEST_CASE("client hello: not a handshake record, not a ClientHello: undecidable at once") {
  Bytes b = client_hello({kAes128});
  Bytes alert = b;
  alert[0] = 21;
  CHECK(peek(alert, 1).status == S::kUndecidable);
  Bytes server_hello = b;
  server_hello[5] = 2;
  CHECK(peek(server_hello).status == S::kUndecidable);
  Bytes bad_version = b;
  bad_version[1] = 4;
  CHECK(peek(bad_version, 2).status == S::kUndecidable);
  // SSLv2-style hello: a 2-octet length with the top bit set, then type 1.
  Bytes sslv2 = {0x80, 0x2E, 0x01, 0x03, 0x01, 0x00, 0x15};
  CHECK(peek(sslv2).status == S::kUndecidable);
  Bytes http = {'G', 'E', 'T', ' ', '/'};
  CHECK(peek(http).status == S::kUndecidable);
}

TEST_CASE("client hello: record lengths 0 and over 2^14 are undecidable") {
  Bytes b = client_hello({kAes128});
  b[3] = 0;
  b[4] = 0;
  CHECK(peek(b).status == S::kUndecidable);
  b[3] = 0x40;
  b[4] = 0x01;  // 16385
  CHECK(peek(b).status == S::kUndecidable);
}

TEST_CASE("client hello: lengths that overrun the record or the message") {
  size_t suites_end = 0;
  Bytes b = client_hello({kAes128, kAes256}, &suites_end);
  size_t list_len_at = suites_end - 4 - 2;  // the cipher_suites length field

  SUBCASE("suite list longer than the record") {
    Bytes x = b;
    x[list_len_at] = 0x7F;
    CHECK(peek(x).status == S::kUndecidable);
    // Even before the record is complete: no byte still to come can fix it.
    CHECK(peek(x, suites_end).status == S::kUndecidable);
  }
  SUBCASE("suite list longer than the handshake message") {
    Bytes x = b;
    x[6] = 0;
    x[7] = 0;
    x[8] = uint8_t(suites_end - 9 - 2);  // message ends before the list does
    CHECK(peek(x).status == S::kUndecidable);
  }
  SUBCASE("a hello spanning records, its suites in the first: extensions unread") {
    Bytes x(b.begin(), b.begin() + long(suites_end + 3));
    size_t rec = x.size() - 5;
    x[3] = uint8_t(rec >> 8);
    x[4] = uint8_t(rec);
    ClientHelloPeek p = peek(x);
    CHECK(p.status == S::kFound);
    CHECK_FALSE(p.extensions_read);
  }
  SUBCASE("record shorter than the ClientHello (a hello spanning records)") {
    Bytes x(b.begin(), b.begin() + long(suites_end - 2));
    size_t rec = x.size() - 5;
    x[3] = uint8_t(rec >> 8);
    x[4] = uint8_t(rec);
    CHECK(peek(x).status == S::kUndecidable);
  }
  SUBCASE("session id over 32 octets") {
    Bytes x = client_hello({kAes128}, nullptr, 33);
    CHECK(peek(x).status == S::kUndecidable);
  }
  SUBCASE("odd suite list length") {
    Bytes x = b;
    x[list_len_at + 1] = 3;
    CHECK(peek(x).status == S::kUndecidable);
  }
}

TEST_CASE("client hello: an empty suite list is left to mbedTLS") {
  Bytes b = client_hello({});
  ClientHelloPeek p = peek(b);
  CHECK(p.status == S::kUndecidable);
  CHECK_FALSE(p.offers(kAes128));
}

TEST_CASE("cipher suite names") {
  std::vector<uint16_t> ids;
  CHECK(bsc::parse_tls_ciphersuites("aes128", &ids));
  CHECK(ids == std::vector<uint16_t>{kAes128});
  CHECK(bsc::parse_tls_ciphersuites("chacha20,aes128,aes256", &ids));
  CHECK(ids == std::vector<uint16_t>{kChaCha, kAes128, kAes256});
  for (const char* bad : {"", "aes128,", ",aes128", "aes128,aes128", "AES128", "aes",
                          "TLS_AES_128_GCM_SHA256", "aes128 ,chacha20", "des"}) {
    CAPTURE(bad);
    CHECK_FALSE(bsc::parse_tls_ciphersuites(bad, &ids));
  }
}

TEST_CASE("--tls-ciphersuites: validated with the other options") {
  bsc::Config cfg;
  cfg.cert_file = cfg.key_file = cfg.ca_file = "x.pem";
  cfg.hub_vmac = bsc::random_vmac();
  CHECK(cfg.validate() == "");
  cfg.tls_ciphersuites = "chacha20,aes128";
  CHECK(cfg.validate() == "");
  cfg.tls_ciphersuites = "aes128,rc4";
  CHECK(cfg.validate() ==
        "--tls-ciphersuites wants names from aes128, aes256, chacha20 (comma-separated, each "
        "once), not 'aes128,rc4'");
}

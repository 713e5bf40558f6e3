// libFuzzer target: the hub's session-ticket parse path (net/ticket_sealer.hpp), which takes
// a ticket from any client's ClientHello. Checks, for arbitrary input octets:
// - as a ticket: TicketSealer::open refuses it, and the mbedTLS parse callback does not
//   accept it (forging AES-256-GCM is not something a fuzzer finds);
// - as ticket contents: decode_ticket_contents accepts it only if re-encoding gives the same
//   octets;
// - as a certificate sealed into an authentic ticket (the write callback, with a real TLS 1.3
//   server session): the parse callback restores the session and hands over an identity
//   whose DER is the certificate the input starts with (octets after it are ignored, as
//   mbedTLS ignores them), or refuses it when the input is no certificate; seal/open of
//   the raw input round-trips.
#include <mbedtls/platform_time.h>
#include <mbedtls/ssl.h>
#include <psa/crypto.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fuzz_check.hpp"
#include "net/ticket_sealer.hpp"

namespace {

using bsc::PeerIdentity;
using bsc::TicketSealer;

// Stands in for TlsSession: seals the identity it is given, keeps what a ticket hands back.
struct Peer : bsc::TicketPeer {
  std::shared_ptr<const PeerIdentity> to_seal, opened;
  std::shared_ptr<const PeerIdentity> identity_to_seal() const override { return to_seal; }
  void ticket_opened(std::shared_ptr<const PeerIdentity> id) override { opened = std::move(id); }
};

TicketSealer& sealer() {
  static TicketSealer* s = [] {
    if (psa_crypto_init() != PSA_SUCCESS) __builtin_trap();
    auto* t = new TicketSealer(3600);
    std::string err;
    if (!t->init(nullptr, &err)) __builtin_trap();
    return t;
  }();
  return *s;
}

// A TLS 1.3 server session as mbedTLS hands it to the write callback (fields set directly:
// there is no public setter, and a handshake per input would be far too slow).
void fill_session(mbedtls_ssl_session* s) {
  mbedtls_ssl_session_init(s);
  s->MBEDTLS_PRIVATE(tls_version) = MBEDTLS_SSL_VERSION_TLS1_3;
  s->MBEDTLS_PRIVATE(endpoint) = MBEDTLS_SSL_IS_SERVER;
  s->MBEDTLS_PRIVATE(ciphersuite) = MBEDTLS_TLS1_3_AES_128_GCM_SHA256;
  s->MBEDTLS_PRIVATE(ticket_flags) = 0x05;  // PSK and PSK+(EC)DHE resumption allowed
  s->MBEDTLS_PRIVATE(resumption_key_len) = 32;
  for (int i = 0; i < 32; ++i) s->MBEDTLS_PRIVATE(resumption_key)[i] = uint8_t(i);
  s->MBEDTLS_PRIVATE(ticket_creation_time) = mbedtls_ms_time();
}

// The DER of the certificate at the start of `data` (mbedTLS ignores what follows it);
// empty if there is none.
std::vector<uint8_t> certificate_der(const uint8_t* data, size_t size) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  std::vector<uint8_t> der;
  if (mbedtls_x509_crt_parse_der(&crt, data, size) == 0)
    der.assign(crt.raw.p, crt.raw.p + crt.raw.len);
  mbedtls_x509_crt_free(&crt);
  return der;
}

int parse(std::vector<uint8_t> ticket, mbedtls_ssl_session* out) {
  return TicketSealer::parse_ticket(&sealer(), out, ticket.data(), ticket.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TicketSealer& s = sealer();
  std::span<const uint8_t> in(data, size);
  Peer peer;
  bsc::TicketPeerScope scope(&peer);

  // The input as a ticket from the network.
  FUZZ_CHECK(!s.open(in));
  {
    mbedtls_ssl_session session;
    mbedtls_ssl_session_init(&session);
    FUZZ_CHECK(parse({data, data + size}, &session) != 0);
    mbedtls_ssl_session_free(&session);
    FUZZ_CHECK(!peer.opened);
  }

  // The input as the plaintext of a ticket.
  if (auto c = bsc::decode_ticket_contents(in))
    FUZZ_CHECK(bsc::encode_ticket_contents(*c) == std::vector<uint8_t>(data, data + size));
  std::vector<uint8_t> sealed = s.seal(in);
  FUZZ_CHECK(sealed.size() == size + TicketSealer::kOverhead);
  auto opened = s.open(sealed);
  FUZZ_CHECK(opened && *opened == std::vector<uint8_t>(data, data + size));
  {
    // Authentic but arbitrary contents: refused or loaded, never a crash.
    mbedtls_ssl_session session;
    mbedtls_ssl_session_init(&session);
    parse(sealed, &session);
    mbedtls_ssl_session_free(&session);
    peer.opened.reset();
  }

  // The input as the peer's certificate in a ticket the write callback makes.
  if (size > 0xffff) return 0;
  auto id = std::make_shared<PeerIdentity>();
  id->der = std::make_shared<const std::vector<uint8_t>>(data, data + size);
  id->issuer_ca.bytes[0] = 0xca;
  peer.to_seal = id;
  mbedtls_ssl_session session;
  fill_session(&session);
  std::vector<uint8_t> ticket(size + 1024);
  size_t tlen = 0;
  uint32_t lifetime = 0;
  int rc = TicketSealer::write_ticket(&s, &session, ticket.data(), ticket.data() + ticket.size(),
                                      &tlen, &lifetime);
  mbedtls_ssl_session_free(&session);
  FUZZ_CHECK(rc == 0 && lifetime == s.lifetime_s());
  ticket.resize(tlen);
  mbedtls_ssl_session loaded;
  mbedtls_ssl_session_init(&loaded);
  rc = parse(ticket, &loaded);
  const std::vector<uint8_t> der = certificate_der(data, size);
  FUZZ_CHECK((rc == 0) == !der.empty());  // a valid ticket always resumes
  if (rc == 0) {
    FUZZ_CHECK(peer.opened && peer.opened->der && *peer.opened->der == der);
    FUZZ_CHECK(peer.opened->issuer_ca == id->issuer_ca);
    FUZZ_CHECK(mbedtls_ssl_session_get_ciphersuite_id(&loaded) ==
               MBEDTLS_TLS1_3_AES_128_GCM_SHA256);
  } else {
    FUZZ_CHECK(rc == MBEDTLS_ERR_SSL_INVALID_MAC && !peer.opened);  // not a certificate
  }
  mbedtls_ssl_session_free(&loaded);
  return 0;
}

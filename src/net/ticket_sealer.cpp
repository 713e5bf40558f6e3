#include "net/ticket_sealer.hpp"

#include <mbedtls/platform_time.h>
#include <mbedtls/platform_util.h>

#include <algorithm>
#include <cstring>

#include "util/unix_time.hpp"

namespace bsc {

// ---- keys -------------------------------------------------------------------------------

std::shared_ptr<const TicketKey> TicketKey::make(const TicketKeyName& name,
                                                 std::span<const uint8_t, 32> secret,
                                                 int64_t created_ms, std::string* error) {
  psa_key_attributes_t attrs = PSA_KEY_ATTRIBUTES_INIT;
  psa_set_key_usage_flags(&attrs, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
  psa_set_key_algorithm(&attrs, PSA_ALG_GCM);
  psa_set_key_type(&attrs, PSA_KEY_TYPE_AES);
  psa_set_key_bits(&attrs, 256);
  std::shared_ptr<TicketKey> key(new TicketKey);
  psa_status_t st = psa_import_key(&attrs, secret.data(), secret.size(), &key->id_);
  psa_reset_key_attributes(&attrs);
  if (st != PSA_SUCCESS) {
    key->id_ = 0;
    *error = "cannot import the ticket key (PSA error " + std::to_string(int(st)) + ")";
    return nullptr;
  }
  key->name_ = name;
  key->created_ms_ = created_ms;
  return key;
}

TicketKey::~TicketKey() {
  if (id_ != 0) psa_destroy_key(id_);
}

TicketKeyRing::TicketKeyRing(int64_t rotate_every_ms, int64_t keep_previous_ms,
                             std::function<int64_t()> now_ms)
    : rotate_every_ms_(rotate_every_ms),
      keep_previous_ms_(keep_previous_ms),
      now_ms_(std::move(now_ms)) {}

bool TicketKeyRing::rotate(std::string* error) {
  std::lock_guard lock(mu_);
  return rotate_locked(now_ms_(), error);
}

void TicketKeyRing::install(std::shared_ptr<const TicketKey> key) {
  std::lock_guard lock(mu_);
  if (current_ && key && current_->name() == key->name()) return;
  install_locked(std::move(key), now_ms_());
}

TicketKeyName TicketKeyRing::current_name() {
  std::lock_guard lock(mu_);
  return current_ ? current_->name() : TicketKeyName{};
}

void TicketKeyRing::install_locked(std::shared_ptr<const TicketKey> key, int64_t now) {
  previous_ = std::move(current_);
  previous_retired_ms_ = now;
  current_ = std::move(key);
}

bool TicketKeyRing::rotate_locked(int64_t now, std::string* error) {
  uint8_t secret[32];
  TicketKeyName name;
  do {
    if (psa_generate_random(secret, sizeof secret) != PSA_SUCCESS ||
        psa_generate_random(name.data(), name.size()) != PSA_SUCCESS) {
      *error = "cannot draw a random ticket key";
      return false;
    }
  } while (current_ && current_->name() == name);  // names must tell the two apart
  auto key = TicketKey::make(name, std::span<const uint8_t, 32>(secret), now, error);
  mbedtls_platform_zeroize(secret, sizeof secret);
  if (!key) return false;
  install_locked(std::move(key), now);
  return true;
}

std::shared_ptr<const TicketKey> TicketKeyRing::current() {
  std::lock_guard lock(mu_);
  const int64_t now = now_ms_();
  if (rotate_every_ms_ > 0 && (!current_ || now - current_->created_ms() >= rotate_every_ms_)) {
    std::string error;
    // On failure the old key goes on sealing: better than refusing every ticket.
    if (!rotate_locked(now, &error) && !current_) return nullptr;
  }
  return current_;
}

std::shared_ptr<const TicketKey> TicketKeyRing::find(const TicketKeyName& name) {
  std::lock_guard lock(mu_);
  if (current_ && current_->name() == name) return current_;
  if (previous_ && previous_->name() == name) {
    if (now_ms_() - previous_retired_ms_ < keep_previous_ms_) return previous_;
    previous_.reset();  // its last ticket has expired: the key is of no more use
  }
  return nullptr;
}

// ---- contents ---------------------------------------------------------------------------

namespace {

constexpr uint8_t kContentsVersion = 2;

void put_u16(std::vector<uint8_t>* out, size_t v) {
  out->push_back(uint8_t(v >> 8));
  out->push_back(uint8_t(v));
}

void put_i64(std::vector<uint8_t>* out, int64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(uint8_t(uint64_t(v) >> shift));
}

// Reads a 16-bit length and that many octets; false if short.
bool take_block(std::span<const uint8_t>* in, std::vector<uint8_t>* out) {
  if (in->size() < 2) return false;
  size_t len = size_t((*in)[0]) << 8 | (*in)[1];
  if (in->size() - 2 < len) return false;
  out->assign(in->begin() + 2, in->begin() + 2 + ptrdiff_t(len));
  *in = in->subspan(2 + len);
  return true;
}

}  // namespace

std::vector<uint8_t> encode_ticket_contents(const TicketContents& c) {
  std::vector<uint8_t> out;
  out.reserve(1 + 8 + 2 + c.session.size() + 2 + c.certificate.size() + 32);
  out.push_back(kContentsVersion);
  put_i64(&out, c.created_unix_ms);
  put_u16(&out, c.session.size());
  out.insert(out.end(), c.session.begin(), c.session.end());
  put_u16(&out, c.certificate.size());
  out.insert(out.end(), c.certificate.begin(), c.certificate.end());
  out.insert(out.end(), c.issuer_ca.bytes.begin(), c.issuer_ca.bytes.end());
  return out;
}

std::optional<TicketContents> decode_ticket_contents(std::span<const uint8_t> in) {
  if (in.empty() || in[0] != kContentsVersion) return std::nullopt;
  in = in.subspan(1);
  TicketContents c;
  if (in.size() < 8) return std::nullopt;
  uint64_t created = 0;
  for (size_t i = 0; i < 8; ++i) created = created << 8 | in[i];
  c.created_unix_ms = int64_t(created);
  in = in.subspan(8);
  if (!take_block(&in, &c.session) || !take_block(&in, &c.certificate)) return std::nullopt;
  if (in.size() != c.issuer_ca.bytes.size()) return std::nullopt;
  std::copy(in.begin(), in.end(), c.issuer_ca.bytes.begin());
  return c;
}

// ---- the handshake on this thread -------------------------------------------------------

namespace {
thread_local TicketPeer* t_ticket_peer = nullptr;
}

TicketPeerScope::TicketPeerScope(TicketPeer* peer) : saved_(t_ticket_peer) {
  t_ticket_peer = peer;
}
TicketPeerScope::~TicketPeerScope() { t_ticket_peer = saved_; }
TicketPeer* TicketPeerScope::current() { return t_ticket_peer; }

// ---- sealing ----------------------------------------------------------------------------

TicketSealer::TicketSealer(uint32_t lifetime_s, std::function<int64_t()> now_ms)
    : lifetime_s_(lifetime_s),
      now_ms_(now_ms ? std::move(now_ms) : std::function<int64_t()>(unix_now_ms)) {}

bool TicketSealer::init(std::shared_ptr<const TicketKey> fixed, std::string* error) {
  const int64_t lifetime_ms = int64_t(lifetime_s_) * 1000;
  // A key file's key never rotates by time (the operator replaces the file).
  keys_ = std::make_unique<TicketKeyRing>(fixed ? 0 : lifetime_ms, lifetime_ms, now_ms_);
  if (!fixed) return keys_->rotate(error);
  keys_->install(std::move(fixed));
  return true;
}

std::vector<uint8_t> TicketSealer::seal(std::span<const uint8_t> plaintext) {
  std::shared_ptr<const TicketKey> key = keys_->current();
  if (!key) return {};
  std::vector<uint8_t> out(kOverhead + plaintext.size());
  std::memcpy(out.data(), key->name().data(), kNameLen);
  uint8_t* nonce = out.data() + kNameLen;
  if (psa_generate_random(nonce, kNonceLen) != PSA_SUCCESS) return {};
  size_t written = 0;
  psa_status_t st = psa_aead_encrypt(key->id(), PSA_ALG_GCM, nonce, kNonceLen, out.data(),
                                     kNameLen, plaintext.data(), plaintext.size(),
                                     nonce + kNonceLen, out.size() - kNameLen - kNonceLen,
                                     &written);
  if (st != PSA_SUCCESS || written != plaintext.size() + kTagLen) return {};
  return out;
}

std::optional<std::vector<uint8_t>> TicketSealer::open(std::span<const uint8_t> ticket) {
  if (ticket.size() < kOverhead) return std::nullopt;
  TicketKeyName name;
  std::memcpy(name.data(), ticket.data(), kNameLen);
  std::shared_ptr<const TicketKey> key = keys_->find(name);
  if (!key) return std::nullopt;  // rotated out, or not ours
  const uint8_t* nonce = ticket.data() + kNameLen;
  const uint8_t* sealed = nonce + kNonceLen;
  const size_t sealed_len = ticket.size() - kNameLen - kNonceLen;
  std::vector<uint8_t> plain(sealed_len - kTagLen);
  size_t written = 0;
  psa_status_t st = psa_aead_decrypt(key->id(), PSA_ALG_GCM, nonce, kNonceLen, ticket.data(),
                                     kNameLen, sealed, sealed_len, plain.data(), plain.size(),
                                     &written);
  if (st != PSA_SUCCESS || written != plain.size()) return std::nullopt;
  return plain;
}

int TicketSealer::write_ticket(void* p_ticket, const mbedtls_ssl_session* session,
                               unsigned char* start, const unsigned char* end, size_t* tlen,
                               uint32_t* lifetime) {
  return static_cast<TicketSealer*>(p_ticket)->write(session, start, end, tlen, lifetime);
}

int TicketSealer::parse_ticket(void* p_ticket, mbedtls_ssl_session* session, unsigned char* buf,
                               size_t len) {
  return static_cast<TicketSealer*>(p_ticket)->parse(session, buf, len);
}

int TicketSealer::write(const mbedtls_ssl_session* session, unsigned char* start,
                        const unsigned char* end, size_t* tlen, uint32_t* lifetime) {
  *tlen = 0;
  TicketPeer* peer = TicketPeerScope::current();
  std::shared_ptr<const PeerIdentity> identity = peer ? peer->identity_to_seal() : nullptr;
  // No verified peer, no ticket: mbedTLS then fails the handshake, and TlsSession refuses
  // the node with the alert that says why (refuse_unverified_peer).
  if (!identity || !identity->der) return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  TicketContents contents;
  size_t session_len = 0;
  int rc = mbedtls_ssl_session_save(session, nullptr, 0, &session_len);
  if (rc != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL && rc != 0) return rc;
  contents.session.resize(session_len);
  if ((rc = mbedtls_ssl_session_save(session, contents.session.data(), session_len,
                                     &session_len)) != 0)
    return rc;
  contents.created_unix_ms = now_ms_();
  contents.certificate = *identity->der;
  contents.issuer_ca = identity->issuer_ca;
  if (contents.session.size() > 0xffff || contents.certificate.size() > 0xffff)
    return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
  std::vector<uint8_t> plain = encode_ticket_contents(contents);
  std::vector<uint8_t> ticket = seal(plain);
  mbedtls_platform_zeroize(plain.data(), plain.size());  // holds the resumption key
  mbedtls_platform_zeroize(contents.session.data(), contents.session.size());
  if (ticket.empty()) return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  if (size_t(end - start) < ticket.size()) return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
  std::memcpy(start, ticket.data(), ticket.size());
  *tlen = ticket.size();
  *lifetime = lifetime_s_;
  return 0;
}

int TicketSealer::parse(mbedtls_ssl_session* session, const unsigned char* buf, size_t len) {
  std::optional<std::vector<uint8_t>> plain = open({buf, len});
  if (!plain) return MBEDTLS_ERR_SSL_INVALID_MAC;
  std::optional<TicketContents> contents = decode_ticket_contents(*plain);
  mbedtls_platform_zeroize(plain->data(), plain->size());
  if (!contents) return MBEDTLS_ERR_SSL_INVALID_MAC;  // authentic but not ours: treat alike
  int rc = mbedtls_ssl_session_load(session, contents->session.data(), contents->session.size());
  mbedtls_platform_zeroize(contents->session.data(), contents->session.size());
  if (rc != 0) return rc;
  // The age check of mbedTLS's own ssl_ticket.c, on the wall clock (the hub that sealed it
  // may be another machine, or this one before a reboot).
  int64_t age = now_ms_() - contents->created_unix_ms;
  if (age < -kClockSkewMs || age > int64_t(lifetime_s_) * 1000)
    return MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
  age = std::max<int64_t>(age, 0);
  // mbedTLS checks the client's stated ticket age against the session's creation time on
  // its own clock (boot time, ms): restate the creation time on that clock.
  session->MBEDTLS_PRIVATE(ticket_creation_time) = mbedtls_ms_time() - age;

  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  rc = mbedtls_x509_crt_parse_der(&crt, contents->certificate.data(),
                                  contents->certificate.size());
  if (rc != 0) {
    mbedtls_x509_crt_free(&crt);
    return MBEDTLS_ERR_SSL_INVALID_MAC;
  }
  auto identity = std::make_shared<PeerIdentity>(peer_identity_of(crt, nullptr));
  mbedtls_x509_crt_free(&crt);
  identity->issuer_ca = contents->issuer_ca;
  if (TicketPeer* peer = TicketPeerScope::current()) peer->ticket_opened(std::move(identity));
  return 0;
}

}  // namespace bsc

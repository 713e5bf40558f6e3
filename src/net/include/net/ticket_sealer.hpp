// Our own TLS 1.3 session tickets (server): mbedTLS 3.6 serializes a TLS 1.3 session without
// the peer's certificate, so after a resumption mbedtls_ssl_get_peer_cert() is NULL and the
// hub would not know who the node is. Our tickets carry the verified certificate and the
// fingerprint of the CA that verified it next to mbedTLS's serialized session, sealed with
// AES-256-GCM under a key only the hub holds:
//   ticket = key name (4) | nonce (12) | ciphertext | tag (16); AAD = key name
//   plaintext = TicketContents (encode_ticket_contents)
// Threads: one TicketSealer is shared by every worker (through TlsContext); the key ring's
// rotation is under a mutex, sealing and opening run outside it (PSA one-shot AEAD).
#pragma once
#include <mbedtls/ssl.h>
#include <psa/crypto.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/peer_identity.hpp"

namespace bsc {

using TicketKeyName = std::array<uint8_t, 4>;

// One AES-256-GCM ticket key, imported into PSA (destroyed with the last reference, so a
// worker still sealing with a key that just rotated out keeps it alive until done).
class TicketKey {
 public:
  // `secret`: 32 octets: random (TicketKeyRing::rotate) or derived from a key file
  // (ticket_key_file.hpp), which two hubs can share.
  static std::shared_ptr<const TicketKey> make(const TicketKeyName& name,
                                               std::span<const uint8_t, 32> secret,
                                               int64_t created_ms, std::string* error);
  ~TicketKey();
  TicketKey(const TicketKey&) = delete;
  TicketKey& operator=(const TicketKey&) = delete;

  const TicketKeyName& name() const { return name_; }
  psa_key_id_t id() const { return id_; }
  int64_t created_ms() const { return created_ms_; }

 private:
  TicketKey() = default;
  TicketKeyName name_{};
  psa_key_id_t id_ = 0;
  int64_t created_ms_ = 0;
};

// The current key (seals) and the previous one (still opens for `keep_previous_ms` after it
// was replaced: one ticket lifetime, so every ticket it sealed can still be used). With
// random keys the ring rotates on use once the current key is `rotate_every_ms` old;
// rotate_every_ms 0: no rotation (a key from a file, replaced only by install()).
class TicketKeyRing {
 public:
  TicketKeyRing(int64_t rotate_every_ms, int64_t keep_previous_ms,
                std::function<int64_t()> now_ms);
  // A new random current key; the current one becomes the previous. False on a PSA error.
  bool rotate(std::string* error);
  // Puts `key` in front (the current one becomes the previous), unless it is the current
  // key already (same name): a reload of an unchanged key file changes nothing.
  void install(std::shared_ptr<const TicketKey> key);
  // The current key's name (tests, logs); all zero before the first key.
  TicketKeyName current_name();
  // The key to seal with (rotated first when due); nullptr only on a PSA failure.
  std::shared_ptr<const TicketKey> current();
  // The key named `name`, current or previous; nullptr if none.
  std::shared_ptr<const TicketKey> find(const TicketKeyName& name);

 private:
  bool rotate_locked(int64_t now, std::string* error);
  void install_locked(std::shared_ptr<const TicketKey> key, int64_t now);
  const int64_t rotate_every_ms_, keep_previous_ms_;
  const std::function<int64_t()> now_ms_;
  std::mutex mu_;
  std::shared_ptr<const TicketKey> current_, previous_;
  int64_t previous_retired_ms_ = 0;  // when previous_ stopped being current
};

// What a ticket holds.
struct TicketContents {
  int64_t created_unix_ms = 0;       // wall clock when sealed: ages mean the same on any hub
  std::vector<uint8_t> session;      // mbedtls_ssl_session_save()
  std::vector<uint8_t> certificate;  // the verified peer's certificate (DER)
  Fingerprint issuer_ca;             // the configured CA that verified it
};
// Format: version 2 (1) | created (8) | session length (2) | session | certificate length
// (2) | certificate | issuer CA fingerprint (32); all big-endian.
std::vector<uint8_t> encode_ticket_contents(const TicketContents& c);
// nullopt unless `bytes` is exactly one well-formed TicketContents.
std::optional<TicketContents> decode_ticket_contents(std::span<const uint8_t> bytes);

// The handshake running on this thread, as the ticket callbacks see it (mbedTLS gives them
// no ssl context): TlsSession installs one with TicketPeerScope around its mbedTLS calls.
class TicketPeer {
 public:
  virtual ~TicketPeer() = default;
  // Write: the verified peer's identity to seal into a new ticket; nullptr: issue none (a
  // peer that failed verification must not come back by resumption).
  virtual std::shared_ptr<const PeerIdentity> identity_to_seal() const = 0;
  // Parse: an authentic, unexpired ticket offered this identity.
  virtual void ticket_opened(std::shared_ptr<const PeerIdentity> identity) = 0;
};
class TicketPeerScope {
 public:
  explicit TicketPeerScope(TicketPeer* peer);
  ~TicketPeerScope();
  TicketPeerScope(const TicketPeerScope&) = delete;
  TicketPeerScope& operator=(const TicketPeerScope&) = delete;
  static TicketPeer* current();

 private:
  TicketPeer* saved_;
};

class TicketSealer {
 public:
  // `lifetime_s`: a ticket is accepted this long after it was sealed; random keys rotate at
  // this period and a replaced key still opens for one more. `now_ms`: the wall clock in ms
  // (Unix time; tests shift it). Wall clock, not mbedTLS's boot-time clock: a failover hub on
  // another machine, or this hub after a reboot, must agree on a ticket's age.
  explicit TicketSealer(uint32_t lifetime_s, std::function<int64_t()> now_ms = {});
  // The first key: `fixed` (from a key file: then it never rotates by itself) or, when
  // nullptr, a random one. False and *error on failure (PSA not initialised, no entropy).
  bool init(std::shared_ptr<const TicketKey> fixed, std::string* error);
  TicketKeyRing& keys() { return *keys_; }
  uint32_t lifetime_s() const { return lifetime_s_; }

  // AEAD layer. seal(): empty on failure. open(): the plaintext, or nullopt when the ticket
  // is malformed, names no key we hold, or fails authentication.
  std::vector<uint8_t> seal(std::span<const uint8_t> plaintext);
  std::optional<std::vector<uint8_t>> open(std::span<const uint8_t> ticket);

  // mbedtls_ssl_conf_session_tickets_cb callbacks; p_ticket is the TicketSealer.
  static int write_ticket(void* p_ticket, const mbedtls_ssl_session* session,
                          unsigned char* start, const unsigned char* end, size_t* tlen,
                          uint32_t* lifetime);
  static int parse_ticket(void* p_ticket, mbedtls_ssl_session* session, unsigned char* buf,
                          size_t len);

  static constexpr size_t kNameLen = 4, kNonceLen = 12, kTagLen = 16;
  static constexpr size_t kOverhead = kNameLen + kNonceLen + kTagLen;
  // A ticket sealed by a hub whose clock runs this far ahead is still accepted (the client's
  // own age check in mbedTLS allows the same).
  static constexpr int64_t kClockSkewMs = MBEDTLS_SSL_TLS1_3_TICKET_AGE_TOLERANCE;

 private:
  int write(const mbedtls_ssl_session* session, unsigned char* start, const unsigned char* end,
            size_t* tlen, uint32_t* lifetime);
  int parse(mbedtls_ssl_session* session, const unsigned char* buf, size_t len);

  const uint32_t lifetime_s_;
  const std::function<int64_t()> now_ms_;
  std::unique_ptr<TicketKeyRing> keys_;
};

}  // namespace bsc

#include "net/peer_identity.hpp"

#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509.h>

#include <cctype>
#include <strings.h>

namespace bsc {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void add_uuid(std::string_view text, std::vector<Uuid>* out) {
  std::optional<Uuid> u = Uuid::parse(text);
  if (!u) return;
  for (const Uuid& seen : *out)
    if (seen == *u) return;  // CN and SAN often name the same one
  out->push_back(*u);
}

// The subject's commonName, if any (the first one).
std::string_view common_name(const mbedtls_x509_name* name) {
  for (; name; name = name->next)
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0)
      return {reinterpret_cast<const char*>(name->val.p), name->val.len};
  return {};
}

// Each SAN uniformResourceIdentifier "urn:uuid:<uuid>" (RFC 4122 3: the prefix is
// case-insensitive).
void add_san_uuids(const mbedtls_x509_crt& crt, std::vector<Uuid>* out) {
  static constexpr std::string_view kPrefix = "urn:uuid:";
  for (const mbedtls_x509_sequence* cur = &crt.subject_alt_names; cur && cur->buf.p;
       cur = cur->next) {
    mbedtls_x509_subject_alternative_name san;
    if (mbedtls_x509_parse_subject_alt_name(&cur->buf, &san) != 0) continue;  // a type we skip
    if (san.type == MBEDTLS_X509_SAN_UNIFORM_RESOURCE_IDENTIFIER) {
      std::string_view uri(reinterpret_cast<const char*>(san.san.unstructured_name.p),
                           san.san.unstructured_name.len);
      if (uri.size() > kPrefix.size() &&
          strncasecmp(uri.data(), kPrefix.data(), kPrefix.size()) == 0)
        add_uuid(uri.substr(kPrefix.size()), out);
    }
    mbedtls_x509_free_subject_alt_name(&san);
  }
}

}  // namespace

Fingerprint sha256_fingerprint(const mbedtls_x509_buf& der) {
  Fingerprint f;
  mbedtls_sha256(der.p, der.len, f.bytes.data(), 0);
  return f;
}

std::string Fingerprint::to_hex() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

std::optional<Fingerprint> Fingerprint::parse(std::string_view text) {
  // Either 64 digits, or 32 pairs with a ':' between each (never mixed).
  const bool colons = text.size() == 32 * 3 - 1;
  if (!colons && text.size() != 64) return std::nullopt;
  Fingerprint f;
  size_t pos = 0;
  for (size_t i = 0; i < f.bytes.size(); ++i) {
    if (colons && i > 0 && text[pos++] != ':') return std::nullopt;
    int hi = hex_value(text[pos]), lo = hex_value(text[pos + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    f.bytes[i] = uint8_t(hi << 4 | lo);
    pos += 2;
  }
  return f;
}

PeerIdentity peer_identity_of(const mbedtls_x509_crt& crt, const mbedtls_x509_crt* issuer_ca) {
  PeerIdentity id;
  id.certificate = sha256_fingerprint(crt.raw);
  id.public_key = sha256_fingerprint(crt.pk_raw);
  if (issuer_ca) id.issuer_ca = sha256_fingerprint(issuer_ca->raw);
  add_uuid(common_name(&crt.subject), &id.named_uuids);
  add_san_uuids(crt, &id.named_uuids);
  char subject[512];
  int n = mbedtls_x509_dn_gets(subject, sizeof subject, &crt.subject);
  if (n > 0) id.subject.assign(subject, size_t(n));
  id.der = std::make_shared<const std::vector<uint8_t>>(crt.raw.p, crt.raw.p + crt.raw.len);
  return id;
}

}  // namespace bsc

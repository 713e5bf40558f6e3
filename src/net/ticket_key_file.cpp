#include "net/ticket_key_file.hpp"

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace bsc {
namespace {

// SHA-256(label | octets): the labels keep the name from revealing anything of the key.
std::array<uint8_t, 32> labelled_hash(const char* label, std::span<const uint8_t> octets) {
  std::array<uint8_t, 32> out;
  mbedtls_sha256_context ctx;
  mbedtls_sha256_init(&ctx);
  mbedtls_sha256_starts(&ctx, 0);
  mbedtls_sha256_update(&ctx, reinterpret_cast<const unsigned char*>(label), std::strlen(label));
  mbedtls_sha256_update(&ctx, octets.data(), octets.size());
  mbedtls_sha256_finish(&ctx, out.data());
  mbedtls_sha256_free(&ctx);
  return out;
}

}  // namespace

std::shared_ptr<const TicketKey> ticket_key_from_octets(std::span<const uint8_t> octets,
                                                        int64_t now_ms, std::string* error) {
  std::array<uint8_t, 32> secret = labelled_hash("bschub ticket key v1", octets);
  const std::array<uint8_t, 32> name_hash = labelled_hash("bschub ticket key name v1", octets);
  TicketKeyName name;
  std::memcpy(name.data(), name_hash.data(), name.size());
  auto key = TicketKey::make(name, std::span<const uint8_t, 32>(secret), now_ms, error);
  mbedtls_platform_zeroize(secret.data(), secret.size());
  return key;
}

std::shared_ptr<const TicketKey> load_ticket_key_file(const std::string& path, int64_t now_ms,
                                                      std::string* error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *error = "cannot read ticket key file " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::vector<uint8_t> octets(kTicketKeyFileMaxOctets + 1);
  const size_t n = std::fread(octets.data(), 1, octets.size(), f);
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  std::shared_ptr<const TicketKey> key;
  if (read_error) {
    *error = "cannot read ticket key file " + path;
  } else if (n < kTicketKeyFileMinOctets) {
    *error = "ticket key file " + path + " holds " + std::to_string(n) + " octets; it needs at "
             "least " + std::to_string(kTicketKeyFileMinOctets) + " random octets (make one "
             "with: openssl rand -out " + path + " 80)";
  } else if (n > kTicketKeyFileMaxOctets) {
    *error = "ticket key file " + path + " is larger than " +
             std::to_string(kTicketKeyFileMaxOctets) + " octets: not a key file?";
  } else {
    key = ticket_key_from_octets({octets.data(), n}, now_ms, error);
  }
  mbedtls_platform_zeroize(octets.data(), octets.size());
  return key;
}

std::string ticket_key_name_hex(const TicketKeyName& name) {
  char hex[2 * sizeof(TicketKeyName) + 1];
  for (size_t i = 0; i < name.size(); ++i) std::snprintf(hex + 2 * i, 3, "%02x", name[i]);
  return hex;
}

}  // namespace bsc

#include "tickets.hpp"

#include <cstdio>
#include <cstring>

namespace bsc::load {
namespace {

constexpr char kMagic[] = "BSCT1\n";
constexpr size_t kMagicLen = sizeof kMagic - 1;
constexpr uint32_t kMaxSessionBytes = 64 * 1024;

void free_session(mbedtls_ssl_session* s) {
  mbedtls_ssl_session_free(s);
  delete s;
}

bool read_u32(FILE* f, uint32_t* v) {
  uint8_t b[4];
  if (std::fread(b, 1, 4, f) != 4) return false;
  *v = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
  return true;
}

void write_u32(FILE* f, uint32_t v) {
  uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  std::fwrite(b, 1, 4, f);
}

}  // namespace

TicketStore::TicketStore(uint32_t nodes) {
  sessions_.reserve(nodes);
  for (uint32_t i = 0; i < nodes; ++i) sessions_.emplace_back(nullptr, free_session);
}

size_t TicketStore::count() const {
  size_t n = 0;
  for (const auto& s : sessions_) n += s != nullptr;
  return n;
}

bool TicketStore::load(const std::string& path, std::string* err) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *err = "cannot read " + path;
    return false;
  }
  char magic[kMagicLen];
  uint32_t count = 0;
  bool ok = std::fread(magic, 1, kMagicLen, f) == kMagicLen &&
            std::memcmp(magic, kMagic, kMagicLen) == 0 && read_u32(f, &count);
  std::vector<uint8_t> buf;
  for (uint32_t i = 0; ok && i < count; ++i) {
    uint32_t len = 0;
    if (!read_u32(f, &len) || len > kMaxSessionBytes) {
      ok = false;
      break;
    }
    if (len == 0) continue;
    buf.resize(len);
    if (std::fread(buf.data(), 1, len, f) != len) {
      ok = false;
      break;
    }
    if (i >= sessions_.size()) continue;  // more nodes saved than this run has
    Session s(new mbedtls_ssl_session, free_session);
    mbedtls_ssl_session_init(s.get());
    if (mbedtls_ssl_session_load(s.get(), buf.data(), len) == 0) sessions_[i] = std::move(s);
  }
  std::fclose(f);
  if (!ok) *err = path + " is not a bschub-load ticket file (or is truncated)";
  return ok;
}

bool TicketStore::save(const std::string& path, std::string* err) const {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    *err = "cannot write " + path;
    return false;
  }
  std::fwrite(kMagic, 1, kMagicLen, f);
  write_u32(f, uint32_t(sessions_.size()));
  std::vector<uint8_t> buf(4096);
  for (const auto& s : sessions_) {
    size_t len = 0;
    if (s) {
      int rc = mbedtls_ssl_session_save(s.get(), buf.data(), buf.size(), &len);
      if (rc == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL && len <= kMaxSessionBytes) {
        buf.resize(len);
        rc = mbedtls_ssl_session_save(s.get(), buf.data(), buf.size(), &len);
      }
      if (rc != 0) len = 0;
    }
    write_u32(f, uint32_t(len));
    if (len) std::fwrite(buf.data(), 1, len, f);
  }
  bool ok = std::fclose(f) == 0;
  if (!ok) *err = "cannot write " + path;
  return ok;
}

}  // namespace bsc::load

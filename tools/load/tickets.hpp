// TicketStore: TLS 1.3 session tickets of the simulated nodes, by global node index, so a
// later run can resume instead of doing full handshakes (a reconnect storm of returning
// nodes). `--save-tickets FILE` writes what the hub issued; `--resume FILE` offers them.
// File format (ours, local use only): "BSCT1\n", u32 count, then per node u32 length +
// mbedtls_ssl_session_save() octets (length 0: no ticket).
//
// Threads: sized by the runner before the shards start; each node writes and reads only
// its own index (on its shard's thread); saved by the runner after the shards ended.
#pragma once
#include <mbedtls/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bsc::load {

class TicketStore {
 public:
  using Session = std::unique_ptr<mbedtls_ssl_session, void (*)(mbedtls_ssl_session*)>;

  explicit TicketStore(uint32_t nodes);
  // [runner] False and *err on a missing or malformed file.
  bool load(const std::string& path, std::string* err);
  bool save(const std::string& path, std::string* err) const;

  // [node's shard]
  const mbedtls_ssl_session* get(uint32_t node) const { return sessions_[node].get(); }
  void put(uint32_t node, Session s) { sessions_[node] = std::move(s); }
  size_t count() const;

 private:
  std::vector<Session> sessions_;
};

}  // namespace bsc::load

// --ticket-key-file: a ticket key that outlives the process and can be shared. The file
// holds at least 32 random octets (`openssl rand -out FILE 80`); the AES-256-GCM key and its
// 4-octet name are both derived from all of them (SHA-256 under distinct labels), so two
// hubs given the same file seal and open each other's tickets, and a new file is a new key
// with a new name. docs/tls.md "Session tickets" says how to share and rotate it.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "net/ticket_sealer.hpp"

namespace bsc {

// The fewest octets a key file may hold: the key's strength.
constexpr size_t kTicketKeyFileMinOctets = 32;
// The most: a key file is a secret, not a document; a larger file is a wrong path.
constexpr size_t kTicketKeyFileMaxOctets = 4096;

// The key that `octets` (a key file's content) stands for, created at `now_ms`.
std::shared_ptr<const TicketKey> ticket_key_from_octets(std::span<const uint8_t> octets,
                                                        int64_t now_ms, std::string* error);
// Reads `path` and derives its key; nullptr and *error (one sentence naming the file) when
// it cannot be read or is too short or too long.
std::shared_ptr<const TicketKey> load_ticket_key_file(const std::string& path, int64_t now_ms,
                                                      std::string* error);
// "3fa2c901": a key name in hex, for logs (never the key).
std::string ticket_key_name_hex(const TicketKeyName& name);

}  // namespace bsc

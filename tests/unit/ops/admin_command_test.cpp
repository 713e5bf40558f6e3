// The admin socket's request grammar and reply encoding (ops/admin_command.hpp): every verb,
// every error sentence, canonical forms, and the request line round trip.
#include <doctest/doctest.h>

#include <string>

#include "ops/admin_command.hpp"

namespace {

using bsc::AdminCommand;
using Verb = AdminCommand::Verb;

const std::string kFp(64, 'A');
const std::string kFpLower(64, 'a');
const std::string kUuid = "12345678-1234-1234-1234-123456789ABC";
const std::string kUuidLower = "12345678-1234-1234-1234-123456789abc";

AdminCommand parsed(const std::string& line) {
  AdminCommand c;
  std::string err;
  INFO(line);
  CHECK(bsc::parse_admin_command(line, &c, &err));
  CHECK(err.empty());
  // The canonical line parses back to the same command.
  AdminCommand again;
  std::string line2 = bsc::format_admin_command(c);
  INFO(line2);
  CHECK(bsc::parse_admin_command(line2, &again, &err));
  CHECK(bsc::format_admin_command(again) == line2);
  return c;
}

std::string error_of(const std::string& line) {
  AdminCommand c;
  std::string err;
  INFO(line);
  CHECK_FALSE(bsc::parse_admin_command(line, &c, &err));
  return err;
}

}  // namespace

TEST_CASE("admin command: disconnect by VMAC or UUID, canonical") {
  AdminCommand c = parsed("disconnect 02a1b2c3d4e5");
  CHECK(c.verb == Verb::kDisconnect);
  CHECK(c.target == "02:A1:B2:C3:D4:E5");
  c = parsed("disconnect   " + kUuid + "\r");
  CHECK(c.target == kUuidLower);
  CHECK(error_of("disconnect") == "disconnect takes one argument: a VMAC or a device UUID");
  CHECK(error_of("disconnect a b") == "disconnect takes one argument: a VMAC or a device UUID");
  CHECK(error_of("disconnect zz") ==
        "disconnect: 'zz' is neither a VMAC (6 hex octets, 02:A1:B2:C3:D4:E5) nor a device UUID "
        "(8-4-4-4-12 hex digits)");
  CHECK(error_of("disconnect FF:FF:FF:FF:FF:FF") ==
        "disconnect: FF:FF:FF:FF:FF:FF is not the VMAC of a node");
  CHECK(error_of("disconnect 00:00:00:00:00:00") ==
        "disconnect: 00:00:00:00:00:00 is not the VMAC of a node");
}

TEST_CASE("admin command: deny add/remove/list") {
  AdminCommand c = parsed("deny add certificate " + kFp + " lost  laptop, ticket 42 ");
  CHECK(c.verb == Verb::kDenyAdd);
  CHECK(c.deny_kind == bsc::DenyEntry::Kind::kCertificate);
  CHECK(c.target == kFpLower);
  CHECK(c.note == "lost  laptop, ticket 42");
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += std::string(i ? ":" : "") + "0F";
  c = parsed("deny add key " + colons);
  CHECK(c.deny_kind == bsc::DenyEntry::Kind::kPublicKey);
  CHECK(c.target == [] { std::string s; for (int i = 0; i < 32; ++i) s += "0f"; return s; }());
  CHECK(c.note.empty());
  c = parsed("deny add uuid " + kUuid);
  CHECK(c.deny_kind == bsc::DenyEntry::Kind::kUuid);
  CHECK(c.target == kUuidLower);
  c = parsed("deny remove uuid " + kUuid);
  CHECK(c.verb == Verb::kDenyRemove);
  CHECK(c.target == kUuidLower);
  CHECK(parsed("deny list").verb == Verb::kDenyList);

  CHECK(error_of("deny") == "deny needs a command: add, remove or list");
  CHECK(error_of("deny drop") == "unknown deny command 'drop'; expected add, remove or list");
  CHECK(error_of("deny list x") == "deny list takes no arguments");
  CHECK(error_of("deny add certificate") ==
        "deny add needs a kind (certificate, key or uuid) and a value");
  CHECK(error_of("deny remove key") ==
        "deny remove needs a kind (certificate, key or uuid) and a value");
  CHECK(error_of("deny add cert " + kFp) ==
        "deny add: unknown kind 'cert'; expected certificate, key or uuid");
  CHECK(error_of("deny add certificate zz") ==
        "deny add: 'zz' is not a SHA-256 fingerprint (64 hex digits)");
  CHECK(error_of("deny add key " + std::string(63, 'a')) ==
        "deny add: '" + std::string(63, 'a') + "' is not a SHA-256 fingerprint (64 hex digits)");
  CHECK(error_of("deny remove uuid nope") ==
        "deny remove: 'nope' is not a device UUID (8-4-4-4-12 hex digits)");
  CHECK(error_of("deny remove uuid " + kUuid + " extra") ==
        "deny remove takes only a kind and a value");
  CHECK(error_of("deny add uuid " + kUuid + " " + std::string(257, 'n')) ==
        "deny add: the note is longer than 256 octets");
  // A long bad word is shown cut short.
  std::string e = error_of("deny add certificate " + std::string(500, 'z'));
  CHECK(e.size() < 200);
}

TEST_CASE("admin command: pin list/clear, reload") {
  CHECK(parsed("pin list").verb == Verb::kPinList);
  AdminCommand c = parsed("pin clear " + kUuid);
  CHECK(c.verb == Verb::kPinClear);
  CHECK(c.target == kUuidLower);
  CHECK(parsed("reload").verb == Verb::kReload);
  CHECK(error_of("pin") == "pin needs a command: list or clear");
  CHECK(error_of("pin drop") == "unknown pin command 'drop'; expected list or clear");
  CHECK(error_of("pin list x") == "pin list takes no arguments");
  CHECK(error_of("pin clear") == "pin clear takes one argument: a device UUID");
  CHECK(error_of("pin clear 02:00:00:00:00:01") ==
        "pin clear: '02:00:00:00:00:01' is not a device UUID (8-4-4-4-12 hex digits)");
  CHECK(error_of("reload now") == "reload takes no arguments");
}

TEST_CASE("admin command: history filters") {
  AdminCommand c = parsed("history");
  CHECK(c.verb == Verb::kHistory);
  CHECK(c.limit == 100);
  CHECK(c.since_unix_ms == 0);
  c = parsed("history limit=5 since=1764669600000 vmac=020000000001 uuid=" + kUuid);
  CHECK(c.limit == 5);
  CHECK(c.since_unix_ms == 1764669600000);
  CHECK(c.vmac == "02:00:00:00:00:01");
  CHECK(c.uuid == kUuidLower);
  CHECK(error_of("history foo") ==
        "history: unknown filter 'foo'; expected vmac=V, uuid=U, since=UNIX_MS or limit=N");
  CHECK(error_of("history limit=1 limit=2") == "history: limit= given twice");
  CHECK(error_of("history limit=0") == "history: limit='0' is not a number 1..10000");
  CHECK(error_of("history limit=10001") == "history: limit='10001' is not a number 1..10000");
  CHECK(error_of("history limit=-1") == "history: limit='-1' is not a number 1..10000");
  CHECK(error_of("history since=yesterday") ==
        "history: since='yesterday' is not a time in milliseconds since 1970 (0..999999999999999)");
  CHECK(error_of("history vmac=xyz") == "history: vmac='xyz' is not a VMAC (6 hex octets)");
  CHECK(error_of("history uuid=") ==
        "history: uuid='' is not a device UUID (8-4-4-4-12 hex digits)");
}

TEST_CASE("admin command: whole-line errors") {
  CHECK(error_of("") == "empty request; expected one of: disconnect, deny, pin, reload, history");
  CHECK(error_of("   ") == "empty request; expected one of: disconnect, deny, pin, reload, history");
  CHECK(error_of("shutdown") ==
        "unknown command 'shutdown'; expected one of: disconnect, deny, pin, reload, history");
  CHECK(error_of("reload\x01") == "the request contains a control character");
  CHECK(error_of(std::string("deny list\0", 10)) == "the request contains a control character");
  CHECK(error_of("deny add uuid " + kUuid + " " + std::string(4096, 'n')) ==
        "request too long (the limit is 4096 octets)");
  CHECK(std::string(bsc::admin_verb_name(Verb::kDenyRemove)) == "deny remove");
}

TEST_CASE("admin reply: encode and decode") {
  bsc::AdminReply r{true, "", {"one", "", "tab\there", "line\nbreak"}};
  std::string wire = bsc::encode_admin_reply(r);
  CHECK(wire == "ok\none\n-\ntab?here\nline?break\n\n");
  bsc::AdminReply back;
  std::string err;
  // Every prefix is incomplete, the whole is complete.
  for (size_t n = 0; n < wire.size(); ++n) CHECK(bsc::decode_admin_reply(wire.substr(0, n), &back, &err) == 0);
  REQUIRE(bsc::decode_admin_reply(wire, &back, &err) == 1);
  CHECK(back.ok);
  CHECK(back.lines == std::vector<std::string>{"one", "-", "tab?here", "line?break"});

  wire = bsc::encode_admin_reply({false, "permission denied: uid 7 is not allowed", {}});
  CHECK(wire == "error permission denied: uid 7 is not allowed\n\n");
  REQUIRE(bsc::decode_admin_reply(wire, &back, &err) == 1);
  CHECK_FALSE(back.ok);
  CHECK(back.error == "permission denied: uid 7 is not allowed");
  CHECK(back.lines.empty());
  CHECK(bsc::encode_admin_reply({false, "", {}}) == "error (no reason given)\n\n");

  CHECK(bsc::decode_admin_reply("HTTP/1.1 200 OK\r\n", &back, &err) == -1);
  CHECK(err == "the reply does not start with 'ok' or 'error'");
  CHECK(bsc::decode_admin_reply("\n\n", &back, &err) == -1);
}

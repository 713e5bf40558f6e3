// The admin socket's request line (parse/format) and reply encoding: the one grammar both
// the hub (ops/admin_server) and bschub-ctl use, so the two cannot drift apart.
#include "ops/admin_command.hpp"

#include <charconv>

namespace bsc {
namespace {

constexpr const char* kVerbs = "disconnect, deny, pin, reload, history";

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

// The words of `line` and where each starts (the deny note is the rest of the line).
struct Word {
  std::string_view text;
  size_t at;
};
std::vector<Word> split_words(std::string_view line) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) words.push_back({line.substr(start, i - start), start});
  }
  return words;
}

// Shown back in errors: bounded, so an error about a huge word stays one short sentence.
std::string quoted(std::string_view word) {
  std::string q = "'";
  q.append(word.substr(0, word.size() > 80 ? 77 : word.size()));
  q += word.size() > 80 ? "...'" : "'";
  return q;
}

template <typename T>
bool parse_number(std::string_view text, T* out) {
  if (text.empty() || text[0] == '+' || text[0] == '-') return false;
  auto r = std::from_chars(text.data(), text.data() + text.size(), *out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

// Each verb's parser: `w` are the words after the verb (and sub-verb).
using Words = std::vector<Word>;

bool fail(std::string* error, std::string sentence) {
  *error = std::move(sentence);
  return false;
}

bool parse_disconnect(const Words& w, AdminCommand* out, std::string* error) {
  if (w.size() != 1) return fail(error, "disconnect takes one argument: a VMAC or a device UUID");
  out->verb = AdminCommand::Verb::kDisconnect;
  if (auto v = Vmac::parse(w[0].text)) {
    if (v->is_unset() || v->is_broadcast())
      return fail(error, "disconnect: " + v->to_string() + " is not the VMAC of a node");
    out->target = v->to_string();
    return true;
  }
  if (auto u = Uuid::parse(w[0].text)) {
    out->target = u->to_string();
    return true;
  }
  return fail(error, "disconnect: " + quoted(w[0].text) +
                         " is neither a VMAC (6 hex octets, 02:A1:B2:C3:D4:E5) nor a device "
                         "UUID (8-4-4-4-12 hex digits)");
}

bool parse_deny_value(const char* what, DenyEntry::Kind kind, std::string_view text,
                      std::string* out, std::string* error) {
  if (kind == DenyEntry::Kind::kUuid) {
    auto u = Uuid::parse(text);
    if (!u)
      return fail(error, std::string(what) + ": " + quoted(text) +
                             " is not a device UUID (8-4-4-4-12 hex digits)");
    *out = u->to_string();
    return true;
  }
  std::optional<Fingerprint> f = Fingerprint::parse(text);
  if (!f)
    return fail(error, std::string(what) + ": " + quoted(text) +
                           " is not a SHA-256 fingerprint (64 hex digits)");
  *out = f->to_hex();
  return true;
}

bool parse_deny(std::string_view line, const Words& w, AdminCommand* out, std::string* error) {
  if (w.empty()) return fail(error, "deny needs a command: add, remove or list");
  std::string_view sub = w[0].text;
  if (sub == "list") {
    if (w.size() != 1) return fail(error, "deny list takes no arguments");
    out->verb = AdminCommand::Verb::kDenyList;
    return true;
  }
  if (sub != "add" && sub != "remove")
    return fail(error, "unknown deny command " + quoted(sub) + "; expected add, remove or list");
  bool add = sub == "add";
  const char* what = add ? "deny add" : "deny remove";
  if (w.size() < 3)
    return fail(error, std::string(what) + " needs a kind (certificate, key or uuid) and a value");
  if (!parse_deny_kind(w[1].text, &out->deny_kind))
    return fail(error, std::string(what) + ": unknown kind " + quoted(w[1].text) +
                           "; expected certificate, key or uuid");
  if (!parse_deny_value(what, out->deny_kind, w[2].text, &out->target, error)) return false;
  if (!add) {
    if (w.size() != 3) return fail(error, "deny remove takes only a kind and a value");
    out->verb = AdminCommand::Verb::kDenyRemove;
    return true;
  }
  out->verb = AdminCommand::Verb::kDenyAdd;
  if (w.size() > 3) {
    std::string_view note = line.substr(w[3].at);
    while (!note.empty() && is_space(note.back())) note.remove_suffix(1);
    if (note.size() > kMaxAdminNote)
      return fail(error, "deny add: the note is longer than " + std::to_string(kMaxAdminNote) +
                             " octets");
    out->note = std::string(note);
  }
  return true;
}

bool parse_pin(const Words& w, AdminCommand* out, std::string* error) {
  if (w.empty()) return fail(error, "pin needs a command: list or clear");
  if (w[0].text == "list") {
    if (w.size() != 1) return fail(error, "pin list takes no arguments");
    out->verb = AdminCommand::Verb::kPinList;
    return true;
  }
  if (w[0].text != "clear")
    return fail(error, "unknown pin command " + quoted(w[0].text) + "; expected list or clear");
  if (w.size() != 2) return fail(error, "pin clear takes one argument: a device UUID");
  auto u = Uuid::parse(w[1].text);
  if (!u)
    return fail(error, "pin clear: " + quoted(w[1].text) +
                           " is not a device UUID (8-4-4-4-12 hex digits)");
  out->verb = AdminCommand::Verb::kPinClear;
  out->target = u->to_string();
  return true;
}

bool parse_history(const Words& w, AdminCommand* out, std::string* error) {
  out->verb = AdminCommand::Verb::kHistory;
  bool seen[4] = {};
  for (const Word& word : w) {
    size_t eq = word.text.find('=');
    std::string_view key = word.text.substr(0, eq == std::string_view::npos ? 0 : eq);
    std::string_view value = eq == std::string_view::npos ? "" : word.text.substr(eq + 1);
    int index = key == "vmac" ? 0 : key == "uuid" ? 1 : key == "since" ? 2 : key == "limit" ? 3 : -1;
    if (index < 0)
      return fail(error, "history: unknown filter " + quoted(word.text) +
                             "; expected vmac=V, uuid=U, since=UNIX_MS or limit=N");
    if (seen[index]) return fail(error, "history: " + std::string(key) + "= given twice");
    seen[index] = true;
    if (index == 0) {
      auto v = Vmac::parse(value);
      if (!v) return fail(error, "history: vmac=" + quoted(value) + " is not a VMAC (6 hex octets)");
      out->vmac = v->to_string();
    } else if (index == 1) {
      auto u = Uuid::parse(value);
      if (!u)
        return fail(error, "history: uuid=" + quoted(value) +
                               " is not a device UUID (8-4-4-4-12 hex digits)");
      out->uuid = u->to_string();
    } else if (index == 2) {
      // Up to the year 33658: plenty, and far from int64's end.
      if (!parse_number(value, &out->since_unix_ms) || out->since_unix_ms > 999999999999999)
        return fail(error, "history: since=" + quoted(value) +
                               " is not a time in milliseconds since 1970 (0..999999999999999)");
    } else {
      if (!parse_number(value, &out->limit) || out->limit < 1 ||
          out->limit > kMaxAdminHistoryLimit)
        return fail(error, "history: limit=" + quoted(value) + " is not a number 1.." +
                               std::to_string(kMaxAdminHistoryLimit));
    }
  }
  return true;
}

// Control characters become '?': one item stays one line.
std::string one_line(std::string_view text) {
  std::string s(text);
  for (char& c : s)
    if (is_control(static_cast<unsigned char>(c)) || c == '\t') c = '?';
  return s;
}

}  // namespace

const char* admin_verb_name(AdminCommand::Verb verb) {
  switch (verb) {
    case AdminCommand::Verb::kDisconnect: return "disconnect";
    case AdminCommand::Verb::kDenyAdd: return "deny add";
    case AdminCommand::Verb::kDenyRemove: return "deny remove";
    case AdminCommand::Verb::kDenyList: return "deny list";
    case AdminCommand::Verb::kPinList: return "pin list";
    case AdminCommand::Verb::kPinClear: return "pin clear";
    case AdminCommand::Verb::kReload: return "reload";
    case AdminCommand::Verb::kHistory: return "history";
  }
  return "?";
}

bool parse_admin_command(std::string_view line, AdminCommand* out, std::string* error) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() >= kMaxAdminRequest) return fail(error, "request too long (the limit is 4096 octets)");
  for (char c : line)
    if (is_control(static_cast<unsigned char>(c)))
      return fail(error, "the request contains a control character");
  *out = AdminCommand{};
  Words w = split_words(line);
  if (w.empty()) return fail(error, std::string("empty request; expected one of: ") + kVerbs);
  std::string_view verb = w[0].text;
  Words rest(w.begin() + 1, w.end());
  if (verb == "disconnect") return parse_disconnect(rest, out, error);
  if (verb == "deny") return parse_deny(line, rest, out, error);
  if (verb == "pin") return parse_pin(rest, out, error);
  if (verb == "history") return parse_history(rest, out, error);
  if (verb == "reload") {
    if (!rest.empty()) return fail(error, "reload takes no arguments");
    out->verb = AdminCommand::Verb::kReload;
    return true;
  }
  return fail(error, "unknown command " + quoted(verb) + "; expected one of: " + kVerbs);
}

std::string format_admin_command(const AdminCommand& c) {
  std::string line = admin_verb_name(c.verb);
  switch (c.verb) {
    case AdminCommand::Verb::kDisconnect:
    case AdminCommand::Verb::kPinClear:
      line += " " + c.target;
      break;
    case AdminCommand::Verb::kDenyAdd:
    case AdminCommand::Verb::kDenyRemove:
      line += std::string(" ") + deny_kind_name(c.deny_kind) + " " + c.target;
      if (c.verb == AdminCommand::Verb::kDenyAdd && !c.note.empty()) line += " " + c.note;
      break;
    case AdminCommand::Verb::kHistory:
      if (!c.vmac.empty()) line += " vmac=" + c.vmac;
      if (!c.uuid.empty()) line += " uuid=" + c.uuid;
      if (c.since_unix_ms != 0) line += " since=" + std::to_string(c.since_unix_ms);
      line += " limit=" + std::to_string(c.limit);
      break;
    default:
      break;
  }
  return line;
}

std::string encode_admin_reply(const AdminReply& reply) {
  std::string out;
  if (reply.ok) {
    out = "ok\n";
  } else {
    std::string sentence = one_line(reply.error);
    out = "error " + (sentence.empty() ? std::string("(no reason given)") : sentence) + "\n";
  }
  for (const std::string& line : reply.lines) out += line.empty() ? "-\n" : one_line(line) + "\n";
  out += "\n";
  return out;
}

int decode_admin_reply(std::string_view text, AdminReply* out, std::string* error) {
  auto status_ok = [](std::string_view status) {
    return status == "ok" || status.substr(0, 6) == "error ";
  };
  size_t first = text.find('\n');
  if (first != std::string_view::npos && !status_ok(text.substr(0, first)))
  {
    *error = "the reply does not start with 'ok' or 'error'";
    return -1;
  }
  size_t end = text.find("\n\n");
  if (end == std::string_view::npos) return 0;
  std::string_view body = text.substr(0, end + 1);  // every line with its "\n"
  *out = AdminReply{};
  size_t nl = body.find('\n');
  std::string_view status = body.substr(0, nl);
  if (status == "ok") {
    out->ok = true;
  } else {
    out->ok = false;
    out->error = std::string(status.substr(6));
  }
  for (size_t at = nl + 1; at < body.size();) {
    size_t next = body.find('\n', at);
    out->lines.emplace_back(body.substr(at, next - at));
    at = next + 1;
  }
  return 1;
}

}  // namespace bsc

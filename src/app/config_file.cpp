#include "app/config_file.hpp"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/config.hpp"
#include "net/tls_context.hpp"
#include "ops/admin_server.hpp"

namespace bsc {

namespace {

// What TOML type an option takes, read from the option itself (never a list of our own).
enum class Want { kBoolean, kUnsigned, kInteger, kNumber, kString, kAnyScalar };

Want wanted(const CLI::Option& opt) {
  if (opt.get_expected_max() == 0) return Want::kBoolean;  // a flag: `no-tls = true`
  const std::string type = opt.get_type_name();
  auto is = [&](const char* name) {
    size_t n = std::strlen(name);
    return type.compare(0, n, name) == 0 && (type.size() == n || type[n] == ':');
  };
  // CLI11 2.1 wraps "-5" into a huge unsigned value; refuse it here instead.
  if (is("UINT")) return Want::kUnsigned;
  if (is("INT")) return Want::kInteger;
  if (is("FLOAT")) return Want::kNumber;
  if (is("TEXT")) return Want::kString;
  return Want::kAnyScalar;  // e.g. an enum: CLI11's conversion judges the text
}

const char* want_name(Want w) {
  switch (w) {
    case Want::kBoolean: return "a boolean (true or false)";
    case Want::kUnsigned: return "a non-negative integer";
    case Want::kInteger: return "an integer";
    case Want::kNumber: return "a number";
    case Want::kString: return "a string";
    case Want::kAnyScalar: return "a string, number or boolean";
  }
  return "?";
}

const char* toml_type_name(const toml::node& v) {
  switch (v.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

bool fits(Want w, const toml::node& v) {
  switch (w) {
    case Want::kBoolean: return v.is_boolean();
    case Want::kUnsigned: return v.is_integer() && v.as_integer()->get() >= 0;
    case Want::kInteger: return v.is_integer();
    case Want::kNumber: return v.is_integer() || v.is_floating_point();
    case Want::kString: return v.is_string();
    case Want::kAnyScalar: return v.is_string() || v.is_number() || v.is_boolean();
  }
  return false;
}

// The value as the text the command line would carry (CLI11 converts from text).
std::string as_text(const toml::node& v) {
  if (auto s = v.as_string()) return s->get();
  if (auto i = v.as_integer()) return std::to_string(i->get());
  if (auto b = v.as_boolean()) return b->get() ? "true" : "false";
  if (auto d = v.as_floating_point()) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d->get());  // shortest exact form
    return std::string(buf, r.ptr);
  }
  return "";
}

bool read_whole(const std::string& path, std::string* text, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read config file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    *error = "cannot read config file " + path;
    return false;
  }
  *text = buf.str();
  if (text->size() > ConfigFile::kMaxBytes) {
    *error = path + ": config file larger than " + std::to_string(ConfigFile::kMaxBytes) +
             " bytes";
    return false;
  }
  return true;
}

}  // namespace

std::string ConfigFile::load(CLI::App& app, const std::string& path) {
  path_ = path;
  lines_.clear();
  std::string text, err;
  if (!read_whole(path, &text, &err)) return err;

  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return path + ":" + std::to_string(e.source().begin.line) + ": " +
           std::string(e.description());
  }

  // toml++ keeps keys sorted; check them in file order so the first error is the first line.
  struct Entry {
    long line;
    std::string key;
    const toml::node* value;
  };
  std::vector<Entry> entries;
  for (auto&& [key, value] : table)
    entries.push_back({long(key.source().begin.line), std::string(key.str()), &value});
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.line < b.line; });

  for (const Entry& e : entries) {
    const std::string where = path + ":" + std::to_string(e.line) + ": ";
    const std::string name = "--" + e.key;
    if (e.key == "config" || e.key == "check-config" || e.key == "help")
      return where + "'" + e.key + "' is a command-line option only, not a config key";
    if (e.value->is_table())
      return where + "'" + e.key + "' is a table; bschub keys are all top-level";
    CLI::Option* opt = app.get_option_no_throw(name);
    if (opt == nullptr) return where + "unknown key '" + e.key + "'";

    std::vector<const toml::node*> items;
    if (auto arr = e.value->as_array()) {
      if (opt->get_items_expected_max() < 2)
        return where + "'" + e.key + "' takes one value, not an array";
      for (const toml::node& item : *arr) items.push_back(&item);
    } else {
      items.push_back(e.value);
    }
    const Want want = wanted(*opt);
    for (const toml::node* item : items) {
      if (fits(want, *item)) continue;
      const char* got = item->is_integer() && want == Want::kUnsigned ? "a negative integer"
                                                                      : toml_type_name(*item);
      return where + "'" + e.key + "' must be " + want_name(want) + ", not " + got;
    }

    if (opt->count() > 0) continue;  // given on the command line: that wins
    lines_[name] = e.line;
    try {
      for (const toml::node* item : items) opt->add_result(as_text(*item));
      opt->run_callback();  // the option's own validators and conversion
    } catch (const CLI::ParseError& pe) {
      std::string what = pe.what();  // CLI11 usually names the option itself
      return where + (what.compare(0, name.size(), name) == 0 ? "" : "'" + e.key + "': ") + what;
    }
  }
  return "";
}

std::string ConfigFile::locate(const std::string& message) const {
  if (message.compare(0, 2, "--") != 0) return message;
  size_t end = message.find(' ');  // "--cert, --key and --ca ..." names no single option
  auto it = lines_.find(message.substr(0, end));
  if (it == lines_.end()) return message;
  return path_ + ":" + std::to_string(it->second) + ": " + message;
}

std::string check_config(const Config& config) {
  std::string err = config.validate();
  if (err.empty() && !config.admin_group.empty()) resolve_admin_group(config.admin_group, &err);
  if (!err.empty() || !config.tls) return err;
  TlsContext tls;
  TlsOptions options;
  options.crl_files = config.crl_files;  // the CRLs' checks too (issuer, signature)
  options.session_tickets = config.tls_tickets;
  options.ticket_lifetime_s = config.ticket_lifetime_s;
  options.ticket_key_file = config.ticket_key_file;  // readable, 32..4096 octets
  if (!tls.init(TlsContext::Role::kServer, config.cert_file, config.key_file, config.ca_file,
                &err, options))
    return err;
  return "";
}

}  // namespace bsc

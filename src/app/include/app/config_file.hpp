// The TOML config file (`--config FILE`). Every top-level key is the long name of a
// command-line option (`max-connections = 5000` is `--max-connections 5000`), so an option
// added to the command line is accepted in the file with no change here, and its value goes
// through the option's own CLI11 conversion and validators. The command line wins over the
// file, the file over the built-in default.
// Threads: [startup] only.
#pragma once
#include <map>
#include <string>

namespace CLI {
class App;
}

namespace bsc {

struct Config;

class ConfigFile {
 public:
  // The file is read whole; anything larger is refused rather than half-read.
  static constexpr size_t kMaxBytes = 1 << 20;

  // Reads `path` and applies each key to the option `--KEY` of `app`, unless the command
  // line already gave that option. REQUIRES: app.parse() has run (so the command line is
  // known). Returns "" or one sentence "PATH:LINE: ...": TOML syntax, unknown key, a key
  // that is not an option (`config`, `help`), wrong TOML type, or the option's own
  // conversion/validator error. Stops at the first error, in file order.
  std::string load(CLI::App& app, const std::string& path);

  // Prefixes "PATH:LINE: " to a message about an option ("--workers must be ...") when that
  // option was set from the file, so the operator sees where; other messages pass unchanged.
  std::string locate(const std::string& message) const;

 private:
  std::string path_;
  std::map<std::string, long> lines_;  // option name ("--workers") -> line it was set on
};

// What a start checks before it binds the port: Config::validate() and, with TLS, that the
// certificate, key and CA files load and match. Returns "" or the start's error message.
// The port is not tried: the hub being checked may be running on it.
std::string check_config(const Config& config);

}  // namespace bsc

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "app/config_file.hpp"
#include "core/config.hpp"

namespace {

// A command line with one option of each kind main.cpp registers (text, unsigned, size_t,
// double, flag), bound the same way, plus one CLI11 validator.
struct Cli {
  bsc::Config cfg;
  std::string listen = "127.0.0.1:4443", level = "info";
  bool no_tls = false;
  std::string config_path;
  CLI::App app{"config file test"};
  bsc::ConfigFile file;

  Cli() {
    app.add_option("--listen", listen);
    app.add_option("--cert", cfg.cert_file);
    app.add_option("--workers", cfg.workers);
    app.add_option("--max-connections", cfg.max_connections);
    app.add_option("--connect-wait", cfg.connect_wait_s);
    app.add_flag("--no-tls", no_tls);
    app.add_option("--log-level", level)->check(CLI::IsMember({"debug", "info", "warn"}));
    app.add_option("--config", config_path);
    app.add_option("--accept-uri", cfg.accept_uris)->allow_extra_args(false);
  }

  ~Cli() {
    if (!written.empty()) std::filesystem::remove(written);
  }

  // Parses `args` (the command line), then loads `toml` as the config file.
  std::string run(const std::string& args, const std::string& toml) {
    app.parse(args, false);
    static int n = 0;
    written = std::filesystem::temp_directory_path() /
              ("bschub_cfg_" + std::to_string(getpid()) + "_" + std::to_string(++n) + ".toml");
    std::ofstream(written) << toml;
    return file.load(app, written.string());
  }

  std::filesystem::path written;
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

TEST_CASE("a good config file sets every kind of option") {
  Cli c;
  REQUIRE(c.run("", "# site hub\n"
                    "listen = \"0.0.0.0:4443\"\n"
                    "cert = \"/etc/bschub/hub.pem\"\n"
                    "workers = 4\n"
                    "max-connections = 50000\n"
                    "connect-wait = 2.5\n"
                    "no-tls = true\n"
                    "log-level = \"warn\"\n") == "");
  CHECK(c.listen == "0.0.0.0:4443");
  CHECK(c.cfg.cert_file == "/etc/bschub/hub.pem");
  CHECK(c.cfg.workers == 4);
  CHECK(c.cfg.max_connections == 50000);
  CHECK(c.cfg.connect_wait_s == 2.5);
  CHECK(c.no_tls);
  CHECK(c.level == "warn");
}

TEST_CASE("an integer is accepted for a seconds option and a flag can be set false") {
  Cli c;
  REQUIRE(c.run("", "connect-wait = 7\nno-tls = false\n") == "");
  CHECK(c.cfg.connect_wait_s == 7.0);
  CHECK_FALSE(c.no_tls);
}

TEST_CASE("an option added to the command line later is a config key with no other change") {
  Cli c;
  double shutdown_s = 10;
  c.app.add_option("--shutdown-timeout", shutdown_s)->check(CLI::Range(1.0, 60.0));
  REQUIRE(c.run("", "shutdown-timeout = 5\n") == "");
  CHECK(shutdown_s == 5.0);
  Cli d;
  d.app.add_option("--shutdown-timeout", shutdown_s)->check(CLI::Range(1.0, 60.0));
  std::string err = d.run("", "\nshutdown-timeout = 99\n");
  INFO(err);  // the option's own CLI11 validator speaks, with the file line
  CHECK(ends_with(err, ".toml:2: --shutdown-timeout: Value 99 not in range 1.000000 to "
                       "60.000000"));
}

TEST_CASE("command line beats the file, the file beats the default") {
  Cli c;
  REQUIRE(c.run("--workers 3 --no-tls",
                "workers = 8\nmax-connections = 20\nno-tls = false\n") == "");
  CHECK(c.cfg.workers == 3);          // command line
  CHECK(c.no_tls);                    // command line flag over the file's false
  CHECK(c.cfg.max_connections == 20); // file
  CHECK(c.cfg.connect_wait_s == 10);  // default
  CHECK(c.listen == "127.0.0.1:4443");
}

TEST_CASE("a TOML syntax error names the file and line") {
  Cli c;
  std::string err = c.run("", "workers = 2\n\nmax-connections = = 5\n");
  INFO(err);
  CHECK(err.find(".toml:3: ") != std::string::npos);
}

TEST_CASE("an unknown key is an error with its name and line, even after good keys") {
  Cli c;
  std::string err = c.run("", "workers = 2\nmax-conections = 5\n");
  CHECK(ends_with(err, ".toml:2: unknown key 'max-conections'"));
}

TEST_CASE("a table is not an option") {
  Cli c;
  std::string err = c.run("", "workers = 2\n[tls]\ncert = \"x\"\n");
  INFO(err);
  CHECK(ends_with(err,
                  ".toml:2: 'tls' is a table; bschub keys are all top-level"));
}

TEST_CASE("config, check-config and help are command-line only") {
  Cli c;
  CHECK(ends_with(c.run("", "config = \"other.toml\"\n"),
                  ".toml:1: 'config' is a command-line option only, not a config key"));
  Cli d;
  CHECK(ends_with(d.run("", "\nhelp = true\n"),
                  ".toml:2: 'help' is a command-line option only, not a config key"));
}

TEST_CASE("a wrong TOML type names the key, line and the type wanted") {
  CHECK(ends_with(Cli().run("", "workers = \"two\"\n"),
                  ".toml:1: 'workers' must be a non-negative integer, not a string"));
  CHECK(ends_with(Cli().run("", "listen = 4443\n"),
                  ".toml:1: 'listen' must be a string, not an integer"));
  CHECK(ends_with(Cli().run("", "connect-wait = \"5\"\n"),
                  ".toml:1: 'connect-wait' must be a number, not a string"));
  CHECK(ends_with(Cli().run("", "no-tls = 1\n"),
                  ".toml:1: 'no-tls' must be a boolean (true or false), not an integer"));
  CHECK(ends_with(Cli().run("", "workers = 2.5\n"),
                  ".toml:1: 'workers' must be a non-negative integer, not a float"));
  CHECK(ends_with(Cli().run("", "workers = [1, 2]\n"),
                  ".toml:1: 'workers' takes one value, not an array"));
}

TEST_CASE("the option's own conversion and validators run on file values") {
  std::string neg = Cli().run("", "\nmax-connections = -5\n");
  CHECK(ends_with(neg, ".toml:2: 'max-connections' must be a non-negative integer, "
                       "not a negative integer"));
  std::string member = Cli().run("", "log-level = \"loud\"\n");
  INFO(member);
  CHECK(member.find(".toml:1: --log-level: ") != std::string::npos);
  CHECK(member.find("loud") != std::string::npos);
}

TEST_CASE("an out-of-range value gets the command line's message, located in the file") {
  Cli c;
  REQUIRE(c.run("", "no-tls = true\n\nworkers = 300\n") == "");
  c.cfg.tls = !c.no_tls;  // as main.cpp does
  std::string err = c.cfg.validate();
  CHECK(err == "--workers must be 1..256");
  CHECK(ends_with(c.file.locate(err), ".toml:3: --workers must be 1..256"));
  // A value from the command line is not blamed on the file.
  Cli d;
  REQUIRE(d.run("--workers 300", "workers = 2\nno-tls = true\n") == "");
  d.cfg.tls = !d.no_tls;
  CHECK(d.file.locate(d.cfg.validate()) == "--workers must be 1..256");
}

TEST_CASE("validate() refuses NaN and negative values wrapped to huge unsigned ones") {
  bsc::Config cfg;
  cfg.tls = false;
  cfg.hub_vmac = bsc::random_vmac();
  REQUIRE(cfg.validate() == "");
  bsc::Config c = cfg;
  c.connect_wait_s = std::nan("");
  CHECK(c.validate() == "--connect-wait must be 1..300 s");
  c = cfg;
  c.slow_reader_timeout_s = std::nan("");
  CHECK(c.validate() == "--slow-reader-timeout must be 0.1..3600 s");
  c = cfg;
  c.disconnect_wait_s = -5;
  CHECK(c.validate() == "--disconnect-wait must be 0.1..300 s");
  c = cfg;
  c.max_connections = size_t(-1);
  CHECK(c.validate() == "--max-connections must be 1..1000000");
  c = cfg;
  c.max_pending_output = size_t(-1);
  CHECK(c.validate() == "--max-pending-output must be 16384..1073741824");
}

TEST_CASE("validate(): --idle-trim is 0 (off) or 0.1..3600 s") {
  bsc::Config cfg;
  cfg.tls = false;
  cfg.hub_vmac = bsc::random_vmac();
  for (double ok : {0.0, 0.1, 30.0, 3600.0}) {
    cfg.idle_trim_s = ok;
    CHECK(cfg.validate() == "");
  }
  for (double bad : {-1.0, 0.05, 3601.0, std::nan("")}) {
    cfg.idle_trim_s = bad;
    CHECK(cfg.validate() == "--idle-trim must be 0 (off) or 0.1..3600 s");
  }
}

TEST_CASE("validate(): the BACnet device's options") {
  bsc::Config cfg;
  cfg.tls = false;
  cfg.hub_vmac = bsc::random_vmac();
  CHECK_FALSE(cfg.device_enabled());
  for (int64_t ok : {int64_t(0), int64_t(4000), int64_t(4194302)}) {
    cfg.device_instance = ok;
    CHECK(cfg.validate() == "");
  }
  CHECK(cfg.device_enabled());
  for (int64_t bad : {int64_t(-2), int64_t(4194303), int64_t(1) << 40}) {
    cfg.device_instance = bad;
    CHECK(cfg.validate() == "--device-instance must be 0..4194302");
  }
  cfg.device_instance = 4000;
  bsc::Config c = cfg;
  c.network_number = 65535;
  CHECK(c.validate() == "--network-number must be 0..65534");
  c = cfg;
  c.vendor_identifier = 65536;
  CHECK(c.validate() == "--vendor-identifier must be 0..65535");
  c = cfg;
  c.location = std::string(256, 'x');
  CHECK(c.validate() == "--location must be at most 255 octets");
  c.location = std::string(255, 'x');
  CHECK(c.validate() == "");
  // UTF-8 passes; a stray continuation octet, a cut-off sequence, an overlong form and a
  // surrogate do not.
  c.device_name = "Hub S\xC3\xBC" "d \xE2\x82\xAC \xF0\x9F\x8F\xA2";
  CHECK(c.validate() == "");
  for (const char* bad : {"\x80", "ab\xC3", "\xE2\x82", "\xC0\xAF", "\xED\xA0\x80", "\xF8\x88"}) {
    c.device_name = bad;
    CHECK(c.validate() == "--device-name must be UTF-8 text");
  }
  CHECK(bsc::default_device_name().rfind("bschub", 0) == 0);
}

TEST_CASE("validate(): --dcc-password and --accept-uri") {
  bsc::Config cfg;
  cfg.tls = false;
  cfg.hub_vmac = bsc::random_vmac();
  cfg.device_instance = 4000;
  bsc::Config c = cfg;
  // 20 characters pass, in octets more (UTF-8); 21 do not, nor a bad UTF-8 sequence.
  c.dcc_password = std::string(20, 'p');
  CHECK(c.validate() == "");
  c.dcc_password = "\xC3\xBC" + std::string(19, 'p');
  CHECK(c.validate() == "");
  for (std::string bad : {std::string(21, 'p'), std::string("ab\xC3")}) {
    c.dcc_password = bad;
    CHECK(c.validate() == "--dcc-password must be UTF-8 text of 1..20 characters");
  }
  c = cfg;
  for (const char* ok : {"wss://hub.example.com", "wss://hub.example.com:443/bacnet",
                         "wss://10.0.0.1:4443", "wss://[2001:db8::1]:443", "wss://[::1]"}) {
    c.accept_uris = {ok};
    CHECK(c.validate() == "");
  }
  for (const char* bad : {"ws://hub:443", "wss://", "wss://:443", "wss://hub:0", "wss://hub:65536",
                          "wss://hub:44x", "wss://hub name", "https://hub", "wss://hub:"}) {
    c.accept_uris = {bad};
    CHECK(c.validate() == std::string("--accept-uri wants wss://HOST[:PORT][/PATH] of at most "
                                      "255 octets, not '") + bad + "'");
  }
  c.accept_uris = {"wss://" + std::string(250, 'h')};
  CHECK(c.validate() != "");
  c.accept_uris.assign(5, "wss://hub");
  CHECK(c.validate() == "--accept-uri may be given at most 4 times");
}

TEST_CASE("--accept-uri repeats on the command line and is an array in the file") {
  Cli c;
  REQUIRE(c.run("--accept-uri wss://a:1 --accept-uri wss://b", "") == "");
  CHECK(c.cfg.accept_uris == std::vector<std::string>{"wss://a:1", "wss://b"});
  Cli f;
  REQUIRE(f.run("", "accept-uri = [\"wss://a:1\", \"wss://b\"]\n") == "");
  CHECK(f.cfg.accept_uris == std::vector<std::string>{"wss://a:1", "wss://b"});
  Cli one;
  REQUIRE(one.run("", "accept-uri = \"wss://a\"\n") == "");
  CHECK(one.cfg.accept_uris == std::vector<std::string>{"wss://a"});
}

TEST_CASE("a range message naming several options is not blamed on one file line") {
  Cli c;
  REQUIRE(c.run("", "cert = \"hub.pem\"\n") == "");
  std::string err = c.cfg.validate();
  CHECK(err == "--cert, --key and --ca are required (or --no-tls on loopback)");
  CHECK(c.file.locate(err) == err);
}

TEST_CASE("a missing or oversized file is refused clearly") {
  Cli c;
  c.app.parse("", false);
  std::string err = c.file.load(c.app, "/nonexistent/bschub.toml");
  CHECK(err == "cannot read config file /nonexistent/bschub.toml: No such file or directory");
  std::string big(bsc::ConfigFile::kMaxBytes + 1, '#');
  Cli d;
  CHECK(d.run("", big).find("config file larger than") != std::string::npos);
}

TEST_CASE("check_config runs validate() and loads the TLS files") {
  bsc::Config cfg;
  cfg.hub_vmac = bsc::random_vmac();
  CHECK(bsc::check_config(cfg) == "--cert, --key and --ca are required (or --no-tls on loopback)");
  cfg.cert_file = "/nonexistent/hub.pem";
  cfg.key_file = "/nonexistent/hub.key";
  cfg.ca_file = "/nonexistent/ca.pem";
  std::string err = bsc::check_config(cfg);
  INFO(err);
  CHECK(err.find("/nonexistent/hub.pem") != std::string::npos);
  cfg.tls = false;
  CHECK(bsc::check_config(cfg) == "");
}

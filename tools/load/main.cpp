// bschub-load: the load generator of bschub. Command line -> run -> summary.
// Exit codes: 0 clean run, 1 lost/duplicate/corrupt/reordered messages or connection
// errors, 2 bad flags, refused target, unreadable certificates.
#include <cstdio>
#include <string>

#include "options.hpp"
#include "report.hpp"
#include "runner.hpp"

int main(int argc, char** argv) {
  bsc::load::Options opt;
  if (int rc = bsc::load::parse_options(argc, argv, &opt); rc >= 0) return rc;
  bsc::load::RunResult result;
  if (int rc = bsc::load::run(opt, &result); rc >= 0) return rc;
  bool ok = bsc::load::run_ok(opt, result);
  bsc::load::print_summary(opt, result, ok);
  if (!opt.json_file.empty()) {
    std::string err;
    if (!bsc::load::write_json(opt, result, ok, &err)) {
      std::fprintf(stderr, "bschub-load: %s\n", err.c_str());
      return 1;
    }
  }
  return ok ? 0 : 1;
}

// state_store_writer: drives a StateStore the way a busy hub would, for
// tests/integration/test_state_store.py.
//   state_store_writer DIR RUN [--count N] [--flush-ms MS]
// Opens DIR, writes audit records "run=RUN seq=N" (N = 0, 1, ...) from one producer thread,
// and after every COMMIT prints "committed K" (K rows of this run are in the file). The
// producer paces itself on the queue depth so nothing is dropped: the committed rows of a
// run are always seq 0..K-1, whatever moment a SIGKILL lands. Without --count it writes until
// killed; with it, it writes N, stops the store and prints "rate R records/s" (the writer's
// sustained figure: N over the time from the first record to the last commit).
// Exit: 0 done, 2 the store did not open (its error on stderr).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "ops/state_store.hpp"

namespace {

// One write() per line: a line is either in the pipe whole or not at all when SIGKILL lands
// (stdio's buffer would be lost with the process).
void say(const std::string& line) {
  std::string s = line + "\n";
  ssize_t n = write(STDOUT_FILENO, s.data(), s.size());
  (void)n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: state_store_writer DIR RUN [--count N] [--flush-ms MS]\n");
    return 2;
  }
  const std::string dir = argv[1], run = argv[2];
  long long count = -1;
  bsc::StateStoreOptions options;
  options.audit_max_rows = 100000000;  // retention must not hide committed rows here
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--count") == 0) count = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--flush-ms") == 0)
      options.flush_interval_s = std::atof(argv[i + 1]) / 1000;
  }
  // The store counts its own commits: this run's rows, not the file's.
  options.after_commit = [](uint64_t committed) { say("committed " + std::to_string(committed)); };

  bsc::StateStore store;
  std::string err;
  if (!store.open(dir, options, &err) || !store.start(&err)) {
    std::fprintf(stderr, "state_store_writer: %s\n", err.c_str());
    return 2;
  }
  say("opened " + store.path());

  auto t0 = std::chrono::steady_clock::now();
  const size_t high_water = options.audit_queue / 2;
  for (long long seq = 0; count < 0 || seq < count; ++seq) {
    while (store.stats().audit_queued >= high_water)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    bsc::AuditRecord r;
    r.kind = bsc::AuditRecord::Kind::kConnect;
    r.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    r.vmac = "02:00:00:00:00:01";
    r.uuid = "11111111-2222-4333-8444-555555555555";
    r.peer = "198.51.100.7:50123";
    r.fingerprint = std::string(64, 'a');
    r.reason = "run=" + run + " seq=" + std::to_string(seq);
    store.audit(std::move(r));
  }
  store.stop(60);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto s = store.stats();
  char line[160];
  std::snprintf(line, sizeof line,
                "rate %.0f records/s (%llu in %.2f s, dropped %llu, errors %llu)",
                double(s.audit_written) / seconds, static_cast<unsigned long long>(s.audit_written),
                seconds, static_cast<unsigned long long>(s.audit_dropped),
                static_cast<unsigned long long>(s.write_errors));
  say(line);
  return s.audit_dropped == 0 && s.write_errors == 0 ? 0 : 1;
}

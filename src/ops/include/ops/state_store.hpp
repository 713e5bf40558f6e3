// StateStore: the hub's lasting state (pins, deny list, audit log) in one SQLite file,
// DIR/bschub.db (docs/operations.md, "Lasting state"). Producers (workers, the admin thread)
// only queue; one writer thread of the store's own writes each batch in one transaction, so
// a killed hub loses at most the batch in flight and never leaves a corrupt file.
//
// Queues: audit records go through a bounded lock-free queue (moodycamel); full: dropped
// and counted, never waited on. Pin and deny changes go through a short mutex-guarded
// vector: they are rare, and their order must be kept across threads (a clear after an add
// must stay after it), which a multi-producer lock-free queue does not promise. The lock
// covers one push_back or one swap, never any database work.
//
// Threads: open(), load_pins(), load_denies() at [startup] before start(); the StateSink
// methods, stats() and query_audit() from [any thread]; start(), stop(), flush() from one
// controlling thread.
#pragma once
#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/state_sink.hpp"

struct sqlite3;

namespace bsc {

struct StateStatements;  // state_db.hpp

struct StateStoreOptions {
  size_t audit_queue = 65536;          // audit records waiting for the writer; beyond: dropped
  size_t state_queue = 65536;          // pin/deny changes waiting; never fills in practice
  double audit_max_age_s = 30 * 86400;  // older audit rows are pruned
  size_t audit_max_rows = 1000000;     // the oldest rows beyond this are pruned
  double flush_interval_s = 0.2;       // the writer commits what is queued this often
  double prune_interval_s = 60;        // and prunes this often (0: after every batch; tests)
  // Test hook, on the writer thread right after each COMMIT returned: the audit rows this
  // store has committed in total so far (every one of them is in the file).
  std::function<void(uint64_t audit_committed)> after_commit;
};

struct AuditQuery {
  std::string vmac;           // "" = any; else Vmac::to_string() form
  std::string uuid;           // "" = any; else Uuid::to_string() form
  int64_t since_unix_ms = 0;  // rows at or after this time
  uint32_t limit = 100;       // the newest this many (capped at kMaxQueryLimit)
};

struct StateStoreStats {
  uint64_t audit_written = 0;   // audit rows committed
  uint64_t audit_dropped = 0;   // audit records lost: queue full, stopped, or a failed batch
  uint64_t state_written = 0;   // pin/deny changes committed
  uint64_t state_dropped = 0;   // pin/deny changes lost (queue full or stopped)
  uint64_t write_errors = 0;    // batches that failed (rolled back) and prunes that failed
  uint64_t audit_pruned = 0;    // rows removed by retention
  uint64_t audit_queued = 0;    // queue depth now
  uint64_t state_queued = 0;
};

class StateStore final : public StateSink {
 public:
  static constexpr int kSchemaVersion = 1;
  static constexpr uint32_t kMaxQueryLimit = 100000;
  static constexpr const char* kFileName = "bschub.db";

  StateStore();
  ~StateStore() override;  // stop(), then closes the file
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Creates `dir` if missing (mode 0700), opens or creates DIR/bschub.db, brings its schema
  // to kSchemaVersion and prunes by retention. False with one sentence in *error for a dir
  // that cannot be made or written, a file that is no SQLite database, a schema from a newer
  // bschub, or a directory another StateStore holds (flock on DIR/bschub.lock, released
  // when this object is destroyed or the process dies).
  bool open(const std::string& dir, const StateStoreOptions& options, std::string* error);
  // The stored tables, for the hub's in-memory copies. Rows that do not parse (edited by
  // hand) are skipped with a warning.
  std::vector<Pin> load_pins(std::string* error = nullptr);
  std::vector<DenyEntry> load_denies(std::string* error = nullptr);

  // Starts the writer thread. Records queued before start() are written by it.
  bool start(std::string* error);
  // Drains what is queued, commits and joins the writer. After `timeout_s` the statement in
  // progress is interrupted (sqlite3_interrupt: a long prune, a busy wait) and its batch is
  // lost; only a write hung in the kernel can hold the join longer. Records queued after
  // stop() are dropped and counted. Idempotent.
  void stop(double timeout_s = 5);
  // Waits until everything queued before the call is committed (or failed); false on
  // timeout or when not running. For tests and an orderly shutdown report.
  bool flush(double timeout_s = 10);

  // The audit log, newest first (by insertion), on the caller's thread with a read-only
  // connection of its own: the writer keeps writing meanwhile (WAL). *error is set only
  // on failure (a bad VMAC/UUID filter, an unreadable file).
  std::vector<AuditRecord> query_audit(const AuditQuery& query, std::string* error) const;

  StateStoreStats stats() const;
  const std::string& path() const { return path_; }

  // StateSink: [any thread], never blocks on the database.
  void pin_added(const Pin& pin) override;
  void pin_cleared(const Uuid& uuid) override;
  void deny_added(const DenyEntry& entry) override;
  void deny_removed(DenyEntry::Kind kind, const std::string& value) override;
  void audit(AuditRecord record) override;

 private:
  struct PinClear {
    Uuid uuid;
  };
  struct DenyRemove {
    DenyEntry::Kind kind;
    std::string value;
  };
  using StateChange = std::variant<Pin, PinClear, DenyEntry, DenyRemove>;

  void push_state(StateChange change);
  void writer_loop();
  void write_batch();
  bool apply(const std::vector<StateChange>& changes, const std::vector<AuditRecord>& audits,
             std::string* error);
  void prune();
  void warn_audit_dropped();

  StateStoreOptions options_;
  std::string dir_, path_;
  sqlite3* db_ = nullptr;  // the writer's connection ([startup], then the writer thread)
  int lock_fd_ = -1;

  moodycamel::ConcurrentQueue<AuditRecord> audit_queue_;
  std::atomic<size_t> audit_depth_{0};  // reserved + queued: the bound is checked on it
  std::mutex state_mutex_;
  std::vector<StateChange> state_queue_;  // guarded by state_mutex_
  std::vector<StateChange> state_retry_;  // writer only: changes of a failed batch
  std::atomic<bool> accepting_{true};

  std::thread writer_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  bool stopping_ = false;        // guarded by wake_mutex_
  uint64_t flush_requests_ = 0;  // guarded by wake_mutex_
  uint64_t flushes_done_ = 0;    // guarded by wake_mutex_
  bool writer_done_ = false;     // guarded by wake_mutex_
  std::atomic<bool> wake_early_{false};  // a producer saw the audit queue half full
  int64_t last_prune_ms_ = 0;    // writer only
  std::unique_ptr<StateStatements> statements_;  // writer only: prepared once

  std::atomic<size_t> state_depth_{0};
  std::atomic<uint64_t> audit_written_{0}, audit_dropped_{0}, state_written_{0},
      state_dropped_{0}, write_errors_{0}, audit_pruned_{0};
  std::atomic<int64_t> last_drop_warn_ms_{0};  // 0: never warned
};

}  // namespace bsc

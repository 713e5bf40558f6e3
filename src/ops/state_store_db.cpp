// StateStore's file: opening it (directory, lock, pragmas, schema), the startup loads, the
// writer's batch and prune, and the read-only queries.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <type_traits>

#include "ops/state_store.hpp"
#include "state_db.hpp"
#include "util/log.hpp"

namespace bsc {

namespace {

// Waits on another connection's lock (an operator's sqlite3 shell, a checkpoint) this long
// before a statement fails; short enough that stop() is never held long by it.
constexpr int kBusyTimeoutMs = 2000;

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool prepare_dir(const std::string& dir, std::string* error) {
  if (dir.empty()) {
    *error = "the state directory must not be empty";
    return false;
  }
  // 0700: the audit log names every device and address; it is the hub user's alone.
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create state directory " + dir + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    *error = "cannot use state directory " + dir + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = "state directory " + dir + " is not a directory";
    return false;
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    *error = "state directory " + dir + " is not writable: " + std::strerror(errno);
    return false;
  }
  return true;
}

// One hub per directory: two writers would each trust their own in-memory tables.
int lock_dir(const std::string& dir, std::string* error) {
  std::string path = dir + "/bschub.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + path + ": " + std::strerror(errno);
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    *error = e == EWOULDBLOCK ? "state directory " + dir + " is in use by another bschub (" +
                                    path + " is locked)"
                              : "cannot lock " + path + ": " + std::strerror(e);
    return -1;
  }
  return fd;
}

// Reads a pragma's one text result (journal_mode answers with the mode it ended up in).
bool pragma_text(sqlite3* db, const char* sql, std::string* out, std::string* error) {
  SqlStatement st(db, sql);
  if (!st.ok() || st.step() != SQLITE_ROW) {
    *error = sql_error(db);
    return false;
  }
  *out = st.text(0);
  return true;
}

}  // namespace

bool StateStore::open(const std::string& dir, const StateStoreOptions& options,
                      std::string* error) {
  if (db_ != nullptr) {
    *error = "the state store is already open";
    return false;
  }
  options_ = options;
  options_.audit_queue = std::max<size_t>(options_.audit_queue, 1);
  options_.state_queue = std::max<size_t>(options_.state_queue, 1);
  if (!prepare_dir(dir, error)) return false;
  int fd = lock_dir(dir, error);
  if (fd < 0) return false;
  dir_ = dir;
  path_ = dir + "/" + kFileName;

  auto fail = [&](const std::string& what) {
    *error = "state file " + path_ + ": " + what;
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
    close(fd);
    return false;
  };
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK)
    return fail(db_ ? sql_error(db_) : "out of memory");
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  // The first statement reads the header: a file that is not a database shows here.
  std::string mode, err;
  if (!pragma_text(db_, "PRAGMA journal_mode=WAL", &mode, &err)) {
    if ((sqlite3_extended_errcode(db_) & 0xFF) == SQLITE_NOTADB)
      return fail("not a SQLite database (" + err + "); move it away or name another "
                  "state directory");
    return fail(err);
  }
  if (mode != "wal") return fail("cannot switch to WAL journal mode (got '" + mode + "')");
  // WAL + FULL: each COMMIT syncs the WAL, so a committed batch survives a power cut, not
  // only a killed process. One fsync per batch (at most every flush interval), not per row.
  if (!sql_exec(db_, "PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;", &err))
    return fail(err);
  if (!migrate_schema(db_, kSchemaVersion, &err)) return fail(err);
  lock_fd_ = fd;
  prune();  // a hub that was down for a month starts with a month less
  return true;
}

std::vector<Pin> StateStore::load_pins(std::string* error) {
  std::vector<Pin> pins;
  SqlStatement st(db_, "SELECT uuid, public_key, pinned_unix_ms, subject FROM pins");
  if (!st.ok()) {
    if (error) *error = sql_error(db_);
    return pins;
  }
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    auto uuid = Uuid::parse(st.text(0));
    auto key = Fingerprint::parse(st.text(1));
    if (!uuid || !key) {
      LOG_WARN("state_row_skipped", "table=pins uuid=\"%s\" note=\"does not parse\"",
               st.text(0).c_str());
      continue;
    }
    pins.push_back(Pin{*uuid, *key, st.integer(2), st.text(3)});
  }
  if (rc != SQLITE_DONE && error) *error = sql_error(db_);
  return pins;
}

std::vector<DenyEntry> StateStore::load_denies(std::string* error) {
  std::vector<DenyEntry> denies;
  SqlStatement st(db_, "SELECT kind, value, note, added_unix_ms FROM denies");
  if (!st.ok()) {
    if (error) *error = sql_error(db_);
    return denies;
  }
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    DenyEntry::Kind kind;
    if (!parse_deny_kind(st.text(0), &kind)) {
      LOG_WARN("state_row_skipped", "table=denies kind=\"%s\" note=\"unknown kind\"",
               st.text(0).c_str());
      continue;
    }
    denies.push_back(DenyEntry{kind, st.text(1), st.text(2), st.integer(3)});
  }
  if (rc != SQLITE_DONE && error) *error = sql_error(db_);
  return denies;
}

// One transaction: all of it is in the file after COMMIT, none of it before.
bool StateStore::apply(const std::vector<StateChange>& changes,
                       const std::vector<AuditRecord>& audits, std::string* error) {
  StateStatements& s = *statements_;
  auto failed = [&] {
    *error = sql_error(db_);
    s.begin.reset();
    s.commit.reset();
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);  // no-op if none is open
    return false;
  };
  if (!s.begin.run()) return failed();
  for (const StateChange& change : changes) {
    bool ok = std::visit(
        [&](const auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, Pin>) {
            s.upsert_pin.bind(1, c.uuid.to_string());
            s.upsert_pin.bind(2, c.public_key.to_hex());
            s.upsert_pin.bind(3, c.pinned_unix_ms);
            s.upsert_pin.bind(4, c.subject);
            return s.upsert_pin.run();
          } else if constexpr (std::is_same_v<T, PinClear>) {
            s.delete_pin.bind(1, c.uuid.to_string());
            return s.delete_pin.run();
          } else if constexpr (std::is_same_v<T, DenyEntry>) {
            s.upsert_deny.bind(1, deny_kind_name(c.kind));
            s.upsert_deny.bind(2, c.value);
            s.upsert_deny.bind(3, c.note);
            s.upsert_deny.bind(4, c.added_unix_ms);
            return s.upsert_deny.run();
          } else {
            s.delete_deny.bind(1, deny_kind_name(c.kind));
            s.delete_deny.bind(2, c.value);
            return s.delete_deny.run();
          }
        },
        change);
    if (!ok) return failed();
  }
  for (const AuditRecord& r : audits) {
    s.insert_audit.bind(1, r.unix_ms);
    s.insert_audit.bind(2, audit_kind_name(r.kind));
    s.insert_audit.bind(3, r.vmac);
    s.insert_audit.bind(4, r.uuid);
    s.insert_audit.bind(5, r.peer);
    s.insert_audit.bind(6, r.fingerprint);
    s.insert_audit.bind(7, r.reason);
    if (!s.insert_audit.run()) return failed();
  }
  if (!s.commit.run()) return failed();
  return true;
}

// Retention, in one transaction: rows older than audit_max_age_s, then the oldest beyond
// audit_max_rows. On the writer thread (or in open(), before it starts).
void StateStore::prune() {
  std::string err;
  // The writer's prepared statements when it runs; ad hoc ones in open().
  std::unique_ptr<StateStatements> own;
  StateStatements* s = statements_.get();
  if (s == nullptr) {
    own = std::make_unique<StateStatements>(db_);
    s = own.get();
  }
  auto failed = [&] {
    err = sql_error(db_);
    s->prune_age.reset();
    s->prune_count.reset();
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    LOG_ERROR("audit_prune_failed", "file=%s error=\"%s\"", path_.c_str(), err.c_str());
  };
  if (!s->ok() || !s->begin.run()) return failed();
  int64_t cutoff = unix_ms_now() - int64_t(options_.audit_max_age_s * 1000);
  s->prune_age.bind(1, cutoff);
  if (!s->prune_age.run()) return failed();
  int64_t removed = sqlite3_changes64(db_);
  s->prune_count.bind(1, int64_t(options_.audit_max_rows));
  if (!s->prune_count.run()) return failed();
  removed += sqlite3_changes64(db_);
  if (!s->commit.run()) return failed();
  audit_pruned_.fetch_add(uint64_t(removed), std::memory_order_relaxed);
  if (removed > 0)
    LOG_INFO("audit_pruned", "rows=%lld max_age_s=%g max_rows=%zu", static_cast<long long>(removed),
             options_.audit_max_age_s, options_.audit_max_rows);
}

std::vector<AuditRecord> StateStore::query_audit(const AuditQuery& query,
                                                 std::string* error) const {
  std::vector<AuditRecord> out;
  std::string vmac, uuid;
  if (!query.vmac.empty()) {
    auto v = Vmac::parse(query.vmac);
    if (!v) {
      *error = "not a VMAC: '" + query.vmac + "'";
      return out;
    }
    vmac = v->to_string();  // the form the records carry
  }
  if (!query.uuid.empty()) {
    auto u = Uuid::parse(query.uuid);
    if (!u) {
      *error = "not a UUID: '" + query.uuid + "'";
      return out;
    }
    uuid = u->to_string();
  }
  if (path_.empty()) {
    *error = "the state store is not open";
    return out;
  }
  // A connection of the caller's own: WAL lets it read a consistent snapshot while the
  // writer commits, and it never touches the writer's connection.
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    *error = "cannot read " + path_ + ": " + (db ? sql_error(db) : "out of memory");
    sqlite3_close_v2(db);
    return out;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  std::string sql =
      "SELECT unix_ms, kind, vmac, uuid, peer, fingerprint, reason FROM audit WHERE unix_ms >= ?1";
  if (!vmac.empty()) sql += " AND vmac = ?2";
  if (!uuid.empty()) sql += " AND uuid = ?3";
  sql += " ORDER BY id DESC LIMIT ?4";
  {
    SqlStatement st(db, sql.c_str());
    if (!st.ok()) {
      *error = sql_error(db);
    } else {
      st.bind(1, query.since_unix_ms);
      if (!vmac.empty()) st.bind(2, vmac);
      if (!uuid.empty()) st.bind(3, uuid);
      st.bind(4, int64_t(std::min(query.limit, kMaxQueryLimit)));
      int rc;
      while ((rc = st.step()) == SQLITE_ROW) {
        AuditRecord::Kind kind;
        if (!parse_audit_kind(st.text(1), &kind)) continue;  // not ours to show
        out.push_back(AuditRecord{kind, st.integer(0), st.text(2), st.text(3), st.text(4),
                                  st.text(5), st.text(6)});
      }
      if (rc != SQLITE_DONE) *error = sql_error(db);
    }
  }
  sqlite3_close_v2(db);
  return out;
}

}  // namespace bsc

#include "state_db.hpp"

#include <iterator>

namespace bsc {

SqlStatement::SqlStatement(sqlite3* db, const char* sql) {
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
    stmt_ = nullptr;
}

void SqlStatement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_TRANSIENT);
}

void SqlStatement::bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

bool SqlStatement::run() {
  int rc = sqlite3_step(stmt_);
  reset();
  return rc == SQLITE_DONE;
}

std::string SqlStatement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(stmt_, column)));
}

StateStatements::StateStatements(sqlite3* db)
    // IMMEDIATE: the write lock is taken at BEGIN, so a conflict shows there, not mid-batch.
    : begin(db, "BEGIN IMMEDIATE"),
      commit(db, "COMMIT"),
      rollback(db, "ROLLBACK"),
      upsert_pin(db, "INSERT OR REPLACE INTO pins(uuid, public_key, pinned_unix_ms, subject) "
                     "VALUES(?1, ?2, ?3, ?4)"),
      delete_pin(db, "DELETE FROM pins WHERE uuid = ?1"),
      upsert_deny(db, "INSERT OR REPLACE INTO denies(kind, value, note, added_unix_ms) "
                      "VALUES(?1, ?2, ?3, ?4)"),
      delete_deny(db, "DELETE FROM denies WHERE kind = ?1 AND value = ?2"),
      insert_audit(db, "INSERT INTO audit(unix_ms, kind, vmac, uuid, peer, fingerprint, reason) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
      prune_age(db, "DELETE FROM audit WHERE unix_ms < ?1"),
      // Keeps the newest ?1 rows: ids are handed out in insertion order.
      prune_count(db, "DELETE FROM audit WHERE id <= "
                      "(SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?1)") {}

bool StateStatements::ok() const {
  return begin.ok() && commit.ok() && rollback.ok() && upsert_pin.ok() && delete_pin.ok() &&
         upsert_deny.ok() && delete_deny.ok() && insert_audit.ok() && prune_age.ok() &&
         prune_count.ok();
}

std::string sql_error(sqlite3* db) {
  return std::string(sqlite3_errmsg(db)) + " (" + std::to_string(sqlite3_extended_errcode(db)) +
         ")";
}

bool sql_exec(sqlite3* db, const char* sql, std::string* error) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return true;
  if (error) *error = sql_error(db);
  return false;
}

namespace {

// kMigrations[n] takes the schema from version n to n + 1. Append; never edit a shipped step.
const char* const kMigrations[] = {
    // 0 -> 1: the first schema. Text columns are NOT NULL ('' = not known) so that filters
    // compare plainly.
    "CREATE TABLE pins(uuid TEXT PRIMARY KEY, public_key TEXT NOT NULL,"
    " pinned_unix_ms INTEGER NOT NULL, subject TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE denies(kind TEXT NOT NULL, value TEXT NOT NULL,"
    " note TEXT NOT NULL DEFAULT '', added_unix_ms INTEGER NOT NULL,"
    " PRIMARY KEY(kind, value));"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, unix_ms INTEGER NOT NULL, kind TEXT NOT NULL,"
    " vmac TEXT NOT NULL DEFAULT '', uuid TEXT NOT NULL DEFAULT '',"
    " peer TEXT NOT NULL DEFAULT '', fingerprint TEXT NOT NULL DEFAULT '',"
    " reason TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_vmac ON audit(vmac);"
    "CREATE INDEX audit_uuid ON audit(uuid);"
    "CREATE INDEX audit_unix_ms ON audit(unix_ms);",
};

bool read_user_version(sqlite3* db, int* version, std::string* error) {
  SqlStatement st(db, "PRAGMA user_version");
  if (!st.ok() || st.step() != SQLITE_ROW) {
    *error = sql_error(db);
    return false;
  }
  *version = int(st.integer(0));
  return true;
}

}  // namespace

bool migrate_schema(sqlite3* db, int target_version, std::string* error) {
  static_assert(std::size(kMigrations) >= 1);
  int version = 0;
  if (!read_user_version(db, &version, error)) return false;
  if (version > target_version) {
    *error = "its schema version " + std::to_string(version) + " is newer than this bschub's (" +
             std::to_string(target_version) + "): run the bschub that wrote it";
    return false;
  }
  for (; version < target_version; ++version) {
    std::string step = std::string("BEGIN IMMEDIATE;") + kMigrations[version] +
                       "PRAGMA user_version = " + std::to_string(version + 1) + ";COMMIT;";
    if (!sql_exec(db, step.c_str(), error)) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      *error = "schema step to version " + std::to_string(version + 1) + " failed: " + *error;
      return false;
    }
  }
  return true;
}

}  // namespace bsc

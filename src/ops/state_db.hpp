// The SQLite side of StateStore: a small prepared-statement wrapper, the schema and its
// migrations, and the text forms the file keeps (kinds by name, keys as hex) so an operator
// can read it with the sqlite3 CLI. Private to src/ops.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/state_sink.hpp"

namespace bsc {

// One prepared statement; reset after every use so it can be stepped again.
class SqlStatement {
 public:
  SqlStatement(sqlite3* db, const char* sql);
  ~SqlStatement() { sqlite3_finalize(stmt_); }
  SqlStatement(const SqlStatement&) = delete;
  SqlStatement& operator=(const SqlStatement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  void bind(int index, std::string_view text);
  void bind(int index, int64_t value);
  int step() { return sqlite3_step(stmt_); }  // SQLITE_ROW, SQLITE_DONE or an error
  // step() once to SQLITE_DONE, then reset; false on any error.
  bool run();
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int column) const;
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// The writer's statements, prepared once when it starts.
struct StateStatements {
  explicit StateStatements(sqlite3* db);
  bool ok() const;

  SqlStatement begin, commit, rollback;
  SqlStatement upsert_pin, delete_pin, upsert_deny, delete_deny, insert_audit;
  SqlStatement prune_age, prune_count;
};

bool sql_exec(sqlite3* db, const char* sql, std::string* error);
std::string sql_error(sqlite3* db);  // "message (code)"

// Brings an open database to StateStore::kSchemaVersion (PRAGMA user_version), each step
// in a transaction of its own. False for a newer schema or a failed step.
bool migrate_schema(sqlite3* db, int target_version, std::string* error);


}  // namespace bsc

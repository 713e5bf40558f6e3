// StateStore against a real SQLite file in a scratch directory: what goes in comes back
// after a reopen, a full queue drops and counts without blocking, retention prunes, the
// audit query filters, and bad directories and files give one clear sentence.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ops/state_store.hpp"

namespace {

namespace fs = std::filesystem;

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "bschub_state_XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~ScratchDir() { fs::remove_all(path); }
  std::string state() const { return (path / "state").string(); }
};

bsc::Uuid uuid(const char* text) { return *bsc::Uuid::parse(text); }

bsc::Fingerprint key_of(uint8_t fill) {
  bsc::Fingerprint f;
  f.bytes.fill(fill);
  return f;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bsc::AuditRecord record(int n, const char* vmac = "02:00:00:00:00:01", const char* id = "",
                        int64_t at = 0) {
  bsc::AuditRecord r;
  r.kind = bsc::AuditRecord::Kind::kConnect;
  r.unix_ms = at ? at : now_ms();
  r.vmac = vmac;
  r.uuid = id;
  r.peer = "192.0.2.1:5000";
  r.reason = "n=" + std::to_string(n);
  return r;
}

bsc::StateStoreOptions fast() {
  bsc::StateStoreOptions o;
  o.flush_interval_s = 0.02;
  return o;
}

int64_t audit_rows(const std::string& db_path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

}  // namespace

TEST_CASE("state store: pins and deny entries survive a close and reopen, in change order") {
  ScratchDir scratch;
  const auto u1 = uuid("11111111-2222-4333-8444-555555555555");
  const auto u2 = uuid("66666666-7777-4888-9999-aaaaaaaaaaaa");
  {
    bsc::StateStore store;
    std::string err;
    REQUIRE_MESSAGE(store.open(scratch.state(), fast(), &err), err);
    CHECK(store.load_pins().empty());
    CHECK(store.load_denies().empty());
    REQUIRE(store.start(&err));
    store.pin_added({u1, key_of(0xAA), 1000, "CN=node1"});
    store.pin_added({u2, key_of(0xBB), 2000, "CN=node2"});
    // Cleared and pinned again with another key: the order of the calls is kept.
    store.pin_cleared(u2);
    store.pin_added({u2, key_of(0xCC), 3000, "CN=node2, O=renewed"});
    store.deny_added({bsc::DenyEntry::Kind::kPublicKey, std::string(64, 'd'), "stolen", 4000});
    store.deny_added(
        {bsc::DenyEntry::Kind::kUuid, "66666666-7777-4888-9999-aaaaaaaaaaaa", "", 5000});
    store.deny_added({bsc::DenyEntry::Kind::kCertificate, std::string(64, 'e'), "old", 6000});
    store.deny_removed(bsc::DenyEntry::Kind::kCertificate, std::string(64, 'e'));
    store.stop();
    CHECK(store.stats().state_written == 8);
    CHECK(store.stats().state_dropped == 0);
  }
  struct stat st;
  REQUIRE(stat(scratch.state().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  bsc::StateStore store;
  std::string err;
  REQUIRE_MESSAGE(store.open(scratch.state(), fast(), &err), err);
  auto pins = store.load_pins();
  REQUIRE(pins.size() == 2);
  std::sort(pins.begin(), pins.end(),
            [](auto& a, auto& b) { return a.pinned_unix_ms < b.pinned_unix_ms; });
  CHECK(pins[0].uuid == u1);
  CHECK(pins[0].public_key == key_of(0xAA));
  CHECK(pins[0].subject == "CN=node1");
  CHECK(pins[1].uuid == u2);
  CHECK(pins[1].public_key == key_of(0xCC));
  CHECK(pins[1].pinned_unix_ms == 3000);
  CHECK(pins[1].subject == "CN=node2, O=renewed");
  auto denies = store.load_denies();
  REQUIRE(denies.size() == 2);
  std::sort(denies.begin(), denies.end(),
            [](auto& a, auto& b) { return a.added_unix_ms < b.added_unix_ms; });
  CHECK(denies[0].kind == bsc::DenyEntry::Kind::kPublicKey);
  CHECK(denies[0].value == std::string(64, 'd'));
  CHECK(denies[0].note == "stolen");
  CHECK(denies[1].kind == bsc::DenyEntry::Kind::kUuid);
  CHECK(denies[1].note.empty());
}

TEST_CASE("state store: a full audit queue drops and counts, and never blocks the producer") {
  ScratchDir scratch;
  bsc::StateStoreOptions o = fast();
  o.audit_queue = 16;
  bsc::StateStore store;
  std::string err;
  REQUIRE_MESSAGE(store.open(scratch.state(), o, &err), err);

  // Not started: nothing drains, so all but 16 of a million must be dropped at once.
  constexpr int kPushes = 1000000;
  auto t0 = std::chrono::steady_clock::now();
  bsc::AuditRecord r = record(0);
  for (int i = 0; i < kPushes; ++i) store.audit(r);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("1e6 audit() calls on a full queue took " << seconds << " s");
  CHECK(seconds < 10);  // generous for a shared machine; a blocked producer would hang
  CHECK(store.stats().audit_queued == 16);
  CHECK(store.stats().audit_dropped == kPushes - 16);

  REQUIRE(store.start(&err));
  REQUIRE(store.flush());
  CHECK(store.stats().audit_written == 16);
  CHECK(store.stats().audit_queued == 0);

  // With the writer running, every record is either written or counted as dropped.
  for (int i = 0; i < 200000; ++i) store.audit(r);
  REQUIRE(store.flush());
  auto s = store.stats();
  CHECK(s.audit_written + s.audit_dropped == kPushes + 200000);
  CHECK(audit_rows(store.path()) == int64_t(s.audit_written));

  store.stop();
  store.audit(r);  // after stop: counted, not kept
  CHECK(store.stats().audit_dropped == s.audit_dropped + 1);
}

TEST_CASE("state store: what is still queued at stop without a writer is counted as dropped") {
  ScratchDir scratch;
  bsc::StateStore store;
  std::string err;
  REQUIRE_MESSAGE(store.open(scratch.state(), fast(), &err), err);
  for (int i = 0; i < 5; ++i) store.audit(record(i));
  store.pin_cleared(uuid("11111111-2222-4333-8444-555555555555"));
  store.stop();
  auto s = store.stats();
  CHECK(s.audit_dropped == 5);
  CHECK(s.state_dropped == 1);
  CHECK(s.audit_queued == 0);
  CHECK(s.state_queued == 0);
  CHECK_FALSE(store.start(&err));
  CHECK(err == "the state store was stopped");
}

TEST_CASE("state store: a failed batch is counted; its pin and deny changes are tried again") {
  ScratchDir scratch;
  auto store = std::make_unique<bsc::StateStore>();
  std::string err;
  REQUIRE_MESSAGE(store->open(scratch.state(), fast(), &err), err);
  REQUIRE(store->start(&err));
  // Another connection holds the write lock past the writer's busy timeout (an operator's
  // sqlite3 shell left in a transaction): the batch fails and is rolled back.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(store->path().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto u = uuid("11111111-2222-4333-8444-555555555555");
  store->pin_added({u, key_of(0x11), 1000, "CN=n"});
  store->audit(record(1));
  REQUIRE(store->flush());
  auto s = store->stats();
  CHECK(s.write_errors == 1);
  CHECK(s.audit_dropped == 1);
  CHECK(s.state_written == 0);
  CHECK(s.state_dropped == 0);

  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  store->audit(record(2));
  REQUIRE(store->flush());
  s = store->stats();
  CHECK(s.state_written == 1);  // the retried pin
  CHECK(s.audit_written == 1);
  CHECK(s.write_errors == 1);
  store.reset();  // releases the directory's lock

  bsc::StateStore again;
  REQUIRE_MESSAGE(again.open(scratch.state(), fast(), &err), err);
  auto pins = again.load_pins();
  REQUIRE(pins.size() == 1);
  CHECK(pins[0].uuid == u);
}

TEST_CASE("state store: retention prunes the oldest rows beyond the count and by age") {
  ScratchDir scratch;
  bsc::StateStoreOptions o = fast();
  o.audit_max_rows = 10;
  o.audit_max_age_s = 3600;
  o.prune_interval_s = 0;  // after every batch
  bsc::StateStore store;
  std::string err;
  REQUIRE_MESSAGE(store.open(scratch.state(), o, &err), err);
  REQUIRE(store.start(&err));

  for (int i = 0; i < 25; ++i) store.audit(record(i));
  REQUIRE(store.flush());
  auto rows = store.query_audit({}, &err);
  REQUIRE(err.empty());
  REQUIRE(rows.size() == 10);
  CHECK(rows.front().reason == "n=24");  // newest first
  CHECK(rows.back().reason == "n=15");
  CHECK(store.stats().audit_pruned == 15);

  // Two hours old: beyond the hour kept. Recent rows stay.
  int64_t old = now_ms() - 2 * 3600 * 1000;
  store.audit(record(100, "02:00:00:00:00:01", "", old));
  store.audit(record(101, "02:00:00:00:00:01", "", old + 1));
  store.audit(record(102));
  REQUIRE(store.flush());
  rows = store.query_audit({}, &err);
  REQUIRE(rows.size() == 10);
  for (const auto& r : rows) CHECK(r.unix_ms > old + 1);
  CHECK(rows.front().reason == "n=102");
  store.stop();
}

TEST_CASE("state store: the audit query filters by VMAC, UUID and time, newest first") {
  ScratchDir scratch;
  bsc::StateStore store;
  std::string err;
  REQUIRE_MESSAGE(store.open(scratch.state(), fast(), &err), err);
  REQUIRE(store.start(&err));
  const char* u = "11111111-2222-4333-8444-555555555555";
  store.audit(record(1, "02:00:00:00:00:01", u, 1000));
  store.audit(record(2, "02:00:00:00:00:02", "", 2000));
  store.audit(record(3, "02:00:00:00:00:01", "", 3000));
  auto refuse = record(4, "", u, 4000);
  refuse.kind = bsc::AuditRecord::Kind::kRefuse;
  refuse.fingerprint = std::string(64, 'f');
  store.audit(refuse);
  auto admin = record(5, "", "", 5000);
  admin.kind = bsc::AuditRecord::Kind::kAdmin;
  admin.peer = "uid=0 pid=42";
  store.audit(admin);
  REQUIRE(store.flush());

  auto reasons = [&](const bsc::AuditQuery& q) {
    std::vector<std::string> out;
    for (const auto& r : store.query_audit(q, &err)) out.push_back(r.reason);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(reasons({}) == V{"n=5", "n=4", "n=3", "n=2", "n=1"});
  bsc::AuditQuery q;
  q.vmac = "02-00-00-00-00-01";  // any form Vmac::parse takes
  CHECK(reasons(q) == V{"n=3", "n=1"});
  q = {};
  q.uuid = "11111111222243338444555555555555";
  CHECK(reasons(q) == V{"n=4", "n=1"});
  q = {};
  q.since_unix_ms = 3000;
  CHECK(reasons(q) == V{"n=5", "n=4", "n=3"});
  q.limit = 2;
  CHECK(reasons(q) == V{"n=5", "n=4"});
  q = {};
  q.vmac = "02:00:00:00:00:01";
  q.uuid = u;
  CHECK(reasons(q) == V{"n=1"});
  CHECK(err.empty());

  auto all = store.query_audit({}, &err);
  REQUIRE(all.size() == 5);
  CHECK(all[0].kind == bsc::AuditRecord::Kind::kAdmin);
  CHECK(all[0].peer == "uid=0 pid=42");
  CHECK(all[1].kind == bsc::AuditRecord::Kind::kRefuse);
  CHECK(all[1].fingerprint == std::string(64, 'f'));
  CHECK(all[1].unix_ms == 4000);
  CHECK(all[1].vmac.empty());

  q = {};
  q.vmac = "not-a-vmac";
  CHECK(store.query_audit(q, &err).empty());
  CHECK(err.find("not a VMAC") != std::string::npos);
  store.stop();
}

TEST_CASE("state store: a file that is no database, a file for a directory, a second hub") {
  ScratchDir scratch;
  std::string err;
  {
    fs::create_directory(scratch.state());
    std::ofstream(scratch.state() + "/bschub.db") << std::string(4096, 'x');
    bsc::StateStore store;
    CHECK_FALSE(store.open(scratch.state(), fast(), &err));
    MESSAGE(err);
    CHECK(err.find("not a SQLite database") != std::string::npos);
    CHECK(err.find(scratch.state() + "/bschub.db") != std::string::npos);
    fs::remove(scratch.state() + "/bschub.db");
  }
  {
    std::string file = (scratch.path / "plain").string();
    std::ofstream(file) << "x";
    bsc::StateStore store;
    CHECK_FALSE(store.open(file, fast(), &err));
    CHECK(err == "state directory " + file + " is not a directory");
  }
  {
    bsc::StateStore store;
    std::string missing_parent = (scratch.path / "no" / "such").string();
    CHECK_FALSE(store.open(missing_parent, fast(), &err));
    CHECK(err.find("cannot create state directory") != std::string::npos);
  }
  {
    bsc::StateStore first, second;
    REQUIRE_MESSAGE(first.open(scratch.state(), fast(), &err), err);
    CHECK_FALSE(second.open(scratch.state(), fast(), &err));
    CHECK(err.find("in use by another bschub") != std::string::npos);
  }
  {
    // A schema from a newer bschub is refused, not guessed at.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((scratch.state() + "/bschub.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    bsc::StateStore store;
    CHECK_FALSE(store.open(scratch.state(), fast(), &err));
    CHECK(err.find("schema version 99 is newer") != std::string::npos);
  }
}

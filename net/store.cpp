#include "net/store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "net/room.hpp"  // random_token
#include "net/thread_name.hpp"
#include "net/utf8.hpp"

namespace lanchat::net {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kBatchMax = 2000;         // wake the writer early past this many ops
constexpr std::size_t kSpareOpsMax = 65'536;    // a bigger emptied batch is let go
constexpr std::size_t kMaxRetained = 100'000;   // ops kept for a retry while writes fail
constexpr std::int64_t kRetentionChunk = 5000;  // rows deleted per retention step
constexpr std::int64_t kIndexChunk = 20'000;    // messages indexed per transaction
constexpr auto kRetryEvery = std::chrono::seconds(5);
constexpr auto kRetentionEvery = std::chrono::seconds(60);

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// An SQLite failure, with SQLite's words.
struct DbError : std::runtime_error {
  DbError(int rc, const std::string& what) : std::runtime_error(what), code(rc) {}
  int code;
};

[[noreturn]] void fail(sqlite3* db, int rc) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw DbError(rc, msg != nullptr ? msg : sqlite3_errstr(rc));
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string what = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw DbError(rc, what);
  }
}

// A prepared statement, kept for the life of its connection and reset after each use.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
    if (rc != SQLITE_OK) fail(db, rc);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(s_);
    fail(db_, rc);
  }
  void run() {
    while (step()) {
    }
    reset();
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p != nullptr ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
                        : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, rc);
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

// Resets a statement however the scope is left.
struct Using {
  explicit Using(Stmt& s) : stmt(s) {}
  ~Using() { stmt.reset(); }
  Using(const Using&) = delete;
  Using& operator=(const Using&) = delete;
  Stmt& stmt;
};

StoredMsg row_msg(const Stmt& s) {
  return StoredMsg{static_cast<std::uint64_t>(s.integer(0)), s.integer(1), s.text(2), s.text(3),
                   s.integer(4) != 0};
}

// Schema version 1. FTS5 indexes the texts with diacritics folded ("citta" finds
// "città"). Messages are indexed after they are committed, in bulk (INSERT ... SELECT of
// the new rows: about 7 times faster than a trigger per row), up to meta.indexed; only
// deleting stays a trigger, for the rows the index already holds. Nothing ranks results
// (newest first), so FTS5 keeps no column sizes (columnsize=0): one b-tree row less per
// message. There is no index on ts: it cost nearly half of each insert, and retention,
// its only user, reads the oldest rows by id instead (apply_retention).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  nick TEXT NOT NULL,
  text TEXT NOT NULL,
  action INTEGER NOT NULL DEFAULT 0);
CREATE VIRTUAL TABLE messages_fts USING fts5(
  text, content='messages', content_rowid='id',
  tokenize='unicode61 remove_diacritics 2', columnsize=0);
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'indexed') BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TABLE bans(
  address TEXT PRIMARY KEY,
  until INTEGER NOT NULL,
  nick TEXT NOT NULL,
  reason TEXT NOT NULL,
  created INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// The words of a search as an FTS5 query: each whitespace-separated chunk becomes a quoted
// phrase (so nothing typed is query syntax) matched as a word beginning.
std::string fts_query(std::string_view text) {
  std::string q;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n') ++j;
    const std::string_view chunk = text.substr(i, j - i);
    i = j;
    const bool has_word = std::any_of(chunk.begin(), chunk.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 0x80 || std::isalnum(u) != 0;
    });
    if (!has_word) continue;
    if (!q.empty()) q += ' ';
    q += '"';
    for (char c : chunk) {
      q += c;
      if (c == '"') q += '"';
    }
    // A word beginning needs two letters at least: "c" would match half the language and
    // cost a scan of every term that starts with it.
    q += utf8::length(chunk) >= 2 ? "\"*" : "\"";
  }
  return q;
}

std::uint64_t file_bytes(const fs::path& p) {
  std::error_code ec;
  std::uint64_t n = 0;
  for (const char* suffix : {"", "-wal"}) {
    const auto size = fs::file_size(p.string() + suffix, ec);
    if (!ec) n += size;
  }
  return n;
}

}  // namespace

// ---- one connection and its statements ---------------------------------------------------

struct Store::Db {
  sqlite3* db = nullptr;
  std::unique_ptr<Stmt> insert, meta_get, meta_set, meta_add, meta_max, put_ban, remove_ban,
      history, search, oldest;

  explicit Db(sqlite3* handle) : db(handle) {}
  ~Db() {
    insert.reset();
    meta_get.reset();
    meta_set.reset();
    meta_add.reset();
    meta_max.reset();
    put_ban.reset();
    remove_ban.reset();
    history.reset();
    search.reset();
    oldest.reset();
    sqlite3_close_v2(db);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Stmt& stmt(std::unique_ptr<Stmt>& slot, const char* sql) {
    if (!slot) slot = std::make_unique<Stmt>(db, sql);
    return *slot;
  }
  std::string meta(const char* key) {
    Stmt& s = stmt(meta_get, "SELECT value FROM meta WHERE key = ?1");
    Using u(s);
    s.bind(1, key);
    return s.step() ? s.text(0) : std::string();
  }
  void set_meta(const char* key, std::string_view value) {
    Stmt& s = stmt(meta_set, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)");
    s.bind(1, key).bind(2, value).run();
  }
  std::int64_t scalar(const char* sql) {
    Stmt s(db, sql);
    return s.step() ? s.integer(0) : 0;
  }
};

namespace {

std::unique_ptr<Store::Db> open_db(const std::string& where, int flags) {
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(where.c_str(), &handle, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  auto db = std::make_unique<Store::Db>(handle);
  if (rc != SQLITE_OK) fail(handle, rc);
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, 5000);
  return db;
}

}  // namespace

void configure_sqlite() {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // SQLITE_MISUSE once initialized: harmless
}

StoreOptions store_options(const StoreSettings& settings, std::string_view room) {
  StoreOptions o;
  o.keep_days = settings.keep_days;
  o.keep_messages = settings.keep_messages;
  if (settings.no_store) {
    if (o.keep_messages == 0) o.keep_messages = kMemoryRoomMessages;
  } else {
    o.file =
        room_store_path(settings.data_dir.empty() ? default_data_dir() : settings.data_dir, room);
  }
  return o;
}

fs::path room_store_path(const fs::path& data_dir, std::string_view room) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  for (std::size_t i = 0; i < room.size(); ++i) {
    const auto c = static_cast<unsigned char>(room[i]);
    const bool unsafe =
        c < 0x20 || c == 0x7F || c == '/' || c == '%' || c == '\\' || (i == 0 && c == '.');
    if (unsafe) {
      name += '%';
      name += kHex[c >> 4];
      name += kHex[c & 0xFU];
    } else {
      name += static_cast<char>(c);
    }
  }
  if (name.empty()) name = "%00";
  if (name.size() > 200) {
    // Keep the file name within what file systems allow; the hash keeps long names apart.
    const auto h = std::hash<std::string_view>{}(room);
    name = name.substr(0, 180) + "~" + std::to_string(h);
  }
  return data_dir / "rooms" / (name + ".sqlite3");
}

// ---- opening ------------------------------------------------------------------------------

Store::Lock::~Lock() {
  if (fd >= 0) ::close(fd);  // closing the last descriptor releases the flock
}

Store::Lock Store::lock_file(const fs::path& store, const StoreOptions& options) {
  const std::string path = store.string() + ".lock";
  Lock lock(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  const int fd = lock.fd;
  if (fd < 0) {
    throw StoreError("cannot create " + path + ": " + std::strerror(errno) +
                     ". Choose a folder you can write to with --data-dir, or run with "
                     "--no-store.");
  }
  const auto deadline = Clock::now() + options.lock_wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      throw StoreError("cannot lock " + path + ": " + std::strerror(errno) + ".");
    }
    char text[32] = {};
    const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
    const long pid = n > 0 ? std::strtol(text, nullptr, 10) : 0;
    if (options.keep_waiting && !options.keep_waiting(pid)) {
      throw StoreCancelled("gave up waiting for " + store.string() +
                           ", which another lanchat host still holds");
    }
    if (Clock::now() >= deadline) {
      throw StoreError(store.string() + " is in use by another lanchat host" +
                       (pid > 0 ? " (process " + std::to_string(pid) + ")" : std::string()) +
                       ": a room's history is kept by one host at a time. Stop that host, "
                       "or give this one another room --name or --data-dir.");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Who holds it, for the message above; the lock itself is the flock, not this text.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // Only the message loses its process number.
  }
  return lock;
}

std::unique_ptr<Store> Store::open(const StoreOptions& options, StoreContents& c) {
  const bool memory = options.file.empty();
  const std::string path = options.file.string();
  const std::string leave_it =
      " The file was left as it is: move it away to start a new store there, or use --data-dir "
      "to keep this room's store elsewhere.";
  bool existed = false;
  if (!memory) {
    std::error_code ec;
    fs::create_directories(options.file.parent_path(), ec);
    if (ec) {
      throw StoreError("cannot create the folder for the room's history " +
                       options.file.parent_path().string() + ": " + ec.message() +
                       ". Choose a folder you can write to with --data-dir, or run with "
                       "--no-store to keep history in memory only.");
    }
    existed = fs::exists(options.file, ec);
    if (existed && !fs::is_regular_file(options.file, ec)) {
      throw StoreError(path + " is not a file." + leave_it);
    }
  }
  Lock lock = memory ? Lock() : lock_file(options.file, options);
  std::unique_ptr<Db> w;
  try {
    w = open_db(memory ? ":memory:" : path,
                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE);
  } catch (const DbError& e) {
    throw StoreError("cannot open " + path + ": " + e.what() +
                     ". Choose a folder you can write to with --data-dir, or run with --no-store.");
  }

  int version = 0;
  try {
    version = static_cast<int>(w->scalar("PRAGMA user_version"));
    if (existed && version == 0 &&
        w->scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table'") > 0) {
      throw StoreError(path + " is an SQLite database, but not a lanchat store." + leave_it);
    }
  } catch (const DbError& e) {
    throw StoreError(path + " cannot be read as a lanchat store (" + e.what() + ")." + leave_it);
  }
  if (version > kSchemaVersion) {
    throw StoreError(path + " was written by a newer lanchat (store version " +
                     std::to_string(version) + "; this lanchat reads versions up to " +
                     std::to_string(kSchemaVersion) +
                     "). It was left as it is: open it with the newer lanchat, or use --data-dir "
                     "to keep this room's store elsewhere.");
  }
  if (existed && version >= 1) {
    try {
      if (w->meta("app") != "lanchat") {
        throw StoreError(path + " is an SQLite database, but not a lanchat store." + leave_it);
      }
    } catch (const DbError& e) {
      throw StoreError(path + " cannot be read as a lanchat store (" + e.what() + ")." + leave_it);
    }
  }

  try {
    if (!memory) {
      Stmt mode(w->db, "PRAGMA journal_mode = WAL");
      if (!mode.step() || mode.text(0) != "wal") {
        throw DbError(SQLITE_ERROR, "cannot switch to write-ahead logging");
      }
    }
    exec(w->db, "PRAGMA synchronous = NORMAL");
    exec(w->db, "PRAGMA foreign_keys = ON");
    if (version < kSchemaVersion) {
      exec(w->db, "BEGIN IMMEDIATE");
      try {
        if (version < 1) {
          exec(w->db, kSchemaV1);
          w->set_meta("app", "lanchat");
          w->set_meta("room_id", random_token());
          w->set_meta("created", std::to_string(wall_ms()));
          w->set_meta("last_id", "0");
          w->set_meta("count", "0");
          w->set_meta("indexed", "0");
        }
        // Later versions migrate here, one step at a time, each in this transaction.
        exec(w->db, ("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
        exec(w->db, "COMMIT");
      } catch (...) {
        sqlite3_exec(w->db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      c.created = version == 0;
    }
    // Stores made before 2026-12 carry an index on ts that nothing reads any more and every
    // insert pays for. Dropping it changes no format (earlier builds still open the file),
    // so the version stays 1. Their search index keeps its column sizes: rebuilding it would
    // hold up the first search after an upgrade for seconds, for a few percent of indexing.
    exec(w->db, "DROP INDEX IF EXISTS messages_by_ts");

    c.room_id = w->meta("room_id");
    const auto max_id = static_cast<std::uint64_t>(w->scalar("SELECT max(id) FROM messages"));
    c.last_id =
        std::max<std::uint64_t>(std::strtoull(w->meta("last_id").c_str(), nullptr, 10), max_id);
    c.count = std::strtoull(w->meta("count").c_str(), nullptr, 10);
    c.oldest_id = static_cast<std::uint64_t>(w->scalar("SELECT min(id) FROM messages"));
    {
      Stmt s(w->db, "SELECT id, ts, nick, text, action FROM messages ORDER BY id DESC LIMIT ?1");
      s.bind(1, static_cast<std::int64_t>(options.recent));
      while (s.step()) c.recent.push_back(row_msg(s));
      std::reverse(c.recent.begin(), c.recent.end());
    }
    {
      Stmt s(
          w->db,
          "SELECT address, until, nick, reason, created FROM bans WHERE until = 0 OR until > ?1");
      s.bind(1, wall_ms());
      while (s.step())
        c.bans.push_back(Ban{s.text(0), s.integer(1), s.text(2), s.text(3), s.integer(4)});
    }
  } catch (const DbError& e) {
    const int base = e.code & 0xFF;
    if (base == SQLITE_READONLY || base == SQLITE_CANTOPEN || base == SQLITE_PERM) {
      throw StoreError("cannot write to " + path + " (" + e.what() +
                       "). Choose a folder you can write to with --data-dir, or run with "
                       "--no-store.");
    }
    if (base == SQLITE_FULL) {
      throw StoreError("cannot write to " + path +
                       ": the disk is full. Free some space, or run "
                       "with --no-store.");
    }
    throw StoreError(path + " cannot be read as a lanchat store (" + e.what() + ")." + leave_it);
  }

  std::unique_ptr<Db> r;
  if (!memory) {
    try {
      r = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE);
      exec(r->db, "PRAGMA query_only = ON");
    } catch (const DbError& e) {
      throw StoreError("cannot open " + path + " for reading: " + e.what());
    }
  }
  std::uint64_t indexed = 0;
  try {
    indexed = std::strtoull(w->meta("indexed").c_str(), nullptr, 10);
  } catch (const DbError&) {
  }
  auto store =
      std::unique_ptr<Store>(new Store(options, std::move(lock), std::move(w), std::move(r)));
  store->indexed_id_ = indexed;
  store->appended_id_ = c.last_id;
  store->written_id_ = c.last_id;
  store->status_.path = memory ? std::string() : path;
  store->status_.messages = c.count;
  store->status_.oldest_id = c.oldest_id;
  store->status_.bytes = memory ? 0 : file_bytes(options.file);
  return store;
}

Store::Store(const StoreOptions& options, Lock lock, std::unique_ptr<Db> writer,
             std::unique_ptr<Db> reader)
    : options_(options),
      lock_(std::move(lock)),
      writer_db_(std::move(writer)),
      reader_db_(std::move(reader)) {
  next_retention_ = Clock::now();  // once at start, then every minute
  writer_ = std::thread([this] {
    name_this_thread("lanchat-store");
    writer_loop();
  });
  if (reader_db_) {
    reader_ = std::thread([this] {
      name_this_thread("lanchat-search");
      reader_loop();
    });
  }
}

Store::~Store() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (reader_.joinable()) reader_.join();
}

// ---- the net thread's side ------------------------------------------------------------------

void Store::append(StoredMsg m) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    appended_id_ = std::max(appended_id_, m.id);
    wake = ops_.empty();
    ops_.emplace_back(Append{std::move(m)});
    ++queued_ops_;
    wake = wake || ops_.size() >= kBatchMax;
  }
  if (wake) wake_.notify_all();
}

void Store::append(std::vector<StoredMsg>& batch) {
  if (batch.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    wake = ops_.empty();
    for (StoredMsg& m : batch) {
      appended_id_ = std::max(appended_id_, m.id);
      ops_.emplace_back(Append{std::move(m)});
    }
    queued_ops_ += batch.size();
    wake = wake || ops_.size() >= kBatchMax;
  }
  batch.clear();
  if (wake) wake_.notify_all();
}

void Store::note_last_id(std::uint64_t id) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    wake = ops_.empty();
    ops_.emplace_back(LastId{id});
    ++queued_ops_;
  }
  if (wake) wake_.notify_all();
}

void Store::put_ban(Ban b) {
  {
    std::lock_guard lock(mutex_);
    ops_.emplace_back(PutBan{std::move(b)});
    ++queued_ops_;
  }
  wake_.notify_all();
}

void Store::remove_ban(std::string address) {
  {
    std::lock_guard lock(mutex_);
    ops_.emplace_back(RemoveBan{std::move(address)});
    ++queued_ops_;
  }
  wake_.notify_all();
}

void Store::flush(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    flushes_.push_back(std::move(done));
  }
  wake_.notify_all();
}

void Store::set_status_callback(std::function<void(const StoreStatus&)> cb) {
  std::lock_guard lock(mutex_);
  on_status_ = std::move(cb);
}

StoreStatus Store::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

bool Store::queue_read(std::function<void(Db&)> r, bool needs_index) {
  {
    std::lock_guard lock(mutex_);
    if (reads_.size() >= kMaxQueuedReads) return false;
    reads_.push_back(Read{std::move(r), queued_ops_, needs_index ? appended_id_ : 0});
    if (!ready(reads_.back())) hurry_ = true;
  }
  wake_.notify_all();
  return true;
}

bool Store::history(std::uint64_t before, std::size_t limit,
                    std::function<void(Messages, bool)> done) {
  return queue_read(
      [before, limit, done = std::move(done)](Db& db) {
        Messages out;
        bool more = false;
        try {
          Stmt& s = db.stmt(db.history,
                            "SELECT id, ts, nick, text, action FROM messages WHERE id < ?1 "
                            "ORDER BY id DESC LIMIT ?2");
          Using u(s);
          s.bind(1, before == 0 ? std::numeric_limits<std::int64_t>::max()
                                : static_cast<std::int64_t>(before));
          s.bind(2, static_cast<std::int64_t>(limit) + 1);
          while (s.step()) out.push_back(row_msg(s));
          if (out.size() > limit) {
            more = true;
            out.pop_back();
          }
          std::reverse(out.begin(), out.end());
        } catch (const DbError&) {
          out.clear();  // answered with nothing rather than not at all
        }
        done(std::move(out), more);
      },
      false);
}

bool Store::search(std::string text, std::size_t limit, std::function<void(Messages)> done) {
  return queue_read(
      [q = fts_query(text), limit, done = std::move(done)](Db& db) {
        Messages out;
        if (!q.empty()) {
          try {
            Stmt& s = db.stmt(db.search,
                              "SELECT m.id, m.ts, m.nick, m.text, m.action FROM messages_fts f "
                              "JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ?1 "
                              "ORDER BY f.rowid DESC LIMIT ?2");
            Using u(s);
            s.bind(1, q).bind(2, static_cast<std::int64_t>(limit));
            while (s.step()) out.push_back(row_msg(s));
          } catch (const DbError&) {
            out.clear();
          }
        }
        done(std::move(out));
      },
      true);
}

// ---- the store's threads ----------------------------------------------------------------

void Store::run_reads(Db& db, std::unique_lock<std::mutex>& lock) {
  while (!reads_.empty() && (ready(reads_.front()) || stop_)) {
    Read r = std::move(reads_.front());
    reads_.pop_front();
    lock.unlock();
    r.run(db);
    lock.lock();
  }
}

void Store::reader_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // Ready means committed and, for a search, indexed. Waiting on the first alone would
    // spin, holding the lock the writer needs to index, as long as a search waited.
    wake_.wait(lock, [&] { return stop_ || (!reads_.empty() && ready(reads_.front())); });
    if (reads_.empty()) return;  // stopping
    run_reads(*reader_db_, lock);
  }
}

void Store::writer_loop() {
  bool index_behind = true;  // until index_pending finds nothing left to index
  const auto urgent = [&] {
    return stop_ || hurry_ || !flushes_.empty() || ops_.size() >= kBatchMax ||
           (!reader_db_ && !reads_.empty());
  };
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!index_behind && retry_.empty() && ops_.empty()) {
      // Nothing to write or index: sleep until the first op of the next batch (its
      // append wakes us) or retention is due, so that an idle host stays asleep.
      const bool keeping = options_.keep_days > 0 || options_.keep_messages > 0;
      wake_.wait_until(lock, keeping ? next_retention_ : Clock::time_point::max(),
                       [&] { return urgent() || !ops_.empty(); });
    }
    wake_.wait_for(lock, options_.batch_interval, urgent);  // gathers a batch
    hurry_ = false;
    // The queue the net thread fills next is the last batch, emptied: it keeps its
    // capacity, so in a long flood appending stops regrowing it from nothing each cycle.
    std::vector<Op> ops = std::move(spare_ops_);
    ops.swap(ops_);
    const std::uint64_t handled = queued_ops_;
    auto flushes = std::move(flushes_);
    flushes_.clear();
    const bool stopping = stop_;
    const bool retry_now =
        !retry_.empty() && (Clock::now() >= retry_after_ || !flushes.empty() || stopping);
    lock.unlock();

    if (retry_now || (retry_.empty() && !ops.empty())) {
      if (!retry_.empty()) {  // the failed batch goes first
        retry_.insert(retry_.end(), std::make_move_iterator(ops.begin()),
                      std::make_move_iterator(ops.end()));
        ops.swap(retry_);
        retry_.clear();
      }
      if (write_batch(ops)) {
        index_behind = !index_pending(std::chrono::milliseconds(50));
        if (Clock::now() >= next_retention_) apply_retention();
      }
    } else if (!ops.empty()) {
      // Still failing and not yet time to retry: keep them, within a bound.
      retry_.insert(retry_.end(), std::make_move_iterator(ops.begin()),
                    std::make_move_iterator(ops.end()));
      if (retry_.size() > kMaxRetained) {
        retry_.erase(retry_.begin(),
                     retry_.begin() + static_cast<std::ptrdiff_t>(retry_.size() - kMaxRetained));
      }
      std::lock_guard guard(mutex_);
      status_.unsaved = retry_.size();
    } else if (retry_.empty()) {
      // What an earlier run left unindexed, or what the last cycle's budget did not reach.
      index_behind = !index_pending(std::chrono::milliseconds(50));
      if (Clock::now() >= next_retention_) apply_retention();
    }
    report_status(false);
    for (auto& done : flushes) done();
    ops.clear();
    if (ops.capacity() <= kSpareOpsMax) spare_ops_ = std::move(ops);

    lock.lock();
    // Written, kept for a retry, or given up: either way reads need not wait for them.
    committed_ops_ = handled;
    if (reader_db_) {
      lock.unlock();
      wake_.notify_all();
      lock.lock();
    } else {
      run_reads(*writer_db_, lock);  // in memory: one connection does both, writes first
    }
    if (stopping && ops_.empty() && flushes_.empty() && reads_.empty()) return;
  }
}

bool Store::write_batch(std::vector<Op>& ops) {
  Db& db = *writer_db_;
  std::uint64_t added = 0;
  std::uint64_t first_added = 0;
  std::uint64_t last = 0;
  try {
    exec(db.db, "BEGIN IMMEDIATE");
    for (Op& op : ops) {
      if (auto* a = std::get_if<Append>(&op)) {
        Stmt& s = db.stmt(db.insert,
                          "INSERT OR REPLACE INTO messages(id, ts, nick, text, action) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)");
        s.bind(1, static_cast<std::int64_t>(a->msg.id))
            .bind(2, a->msg.ts)
            .bind(3, a->msg.from)
            .bind(4, a->msg.text)
            .bind(5, a->msg.action ? 1 : 0)
            .run();
        if (first_added == 0) first_added = a->msg.id;
        ++added;
        last = std::max(last, a->msg.id);
      } else if (auto* l = std::get_if<LastId>(&op)) {
        last = std::max(last, l->id);
      } else if (auto* b = std::get_if<PutBan>(&op)) {
        Stmt& s = db.stmt(db.put_ban,
                          "INSERT OR REPLACE INTO bans(address, until, nick, reason, created) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)");
        s.bind(1, b->ban.address)
            .bind(2, b->ban.until)
            .bind(3, b->ban.nick)
            .bind(4, b->ban.reason)
            .bind(5, b->ban.created)
            .run();
      } else if (auto* r = std::get_if<RemoveBan>(&op)) {
        Stmt& s = db.stmt(db.remove_ban, "DELETE FROM bans WHERE address = ?1");
        s.bind(1, r->address).run();
      }
    }
    if (added > 0) {
      Stmt& s = db.stmt(db.meta_add,
                        "UPDATE meta SET value = CAST(value AS INTEGER) + ?1 WHERE key = 'count'");
      s.bind(1, static_cast<std::int64_t>(added)).run();
    }
    if (last > 0) {
      Stmt& s = db.stmt(db.meta_max,
                        "UPDATE meta SET value = max(CAST(value AS INTEGER), ?1) "
                        "WHERE key = 'last_id'");
      s.bind(1, static_cast<std::int64_t>(last)).run();
    }
    exec(db.db, "COMMIT");
  } catch (const DbError& e) {
    sqlite3_exec(db.db, "ROLLBACK", nullptr, nullptr, nullptr);
    retry_ = std::move(ops);
    if (retry_.size() > kMaxRetained) {
      retry_.erase(retry_.begin(),
                   retry_.begin() + static_cast<std::ptrdiff_t>(retry_.size() - kMaxRetained));
    }
    retry_after_ = Clock::now() + kRetryEvery;
    bool changed = false;
    const auto unsaved =
        static_cast<std::uint64_t>(std::count_if(retry_.begin(), retry_.end(), [](const Op& op) {
          return std::holds_alternative<Append>(op);
        }));
    {
      std::lock_guard lock(mutex_);
      changed = !status_.failing || status_.error != e.what();
      status_.failing = true;
      status_.error = e.what();
      status_.unsaved = unsaved;
      status_changed_ = true;
    }
    if (changed) report_status(true);
    return false;
  }
  bool recovered = false;
  {
    std::lock_guard lock(mutex_);
    recovered = status_.failing;
    status_.failing = false;
    status_.error.clear();
    status_.unsaved = 0;
    status_.messages += added;
    status_changed_ = status_changed_ || added > 0;
    if (status_.oldest_id == 0) status_.oldest_id = first_added;
  }
  if (recovered) report_status(true);
  written_id_ = std::max(written_id_, last);
  return true;
}

bool Store::index_pending(std::chrono::milliseconds budget) {
  Db& db = *writer_db_;
  const auto until = Clock::now() + budget;
  std::uint64_t from = 0;
  {
    std::lock_guard lock(mutex_);
    from = indexed_id_;
  }
  while (Clock::now() < until) {
    std::uint64_t to = 0;
    std::int64_t rows = 0;
    try {
      exec(db.db, "BEGIN IMMEDIATE");
      {
        Stmt s(db.db,
               "SELECT max(id), count(*) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id "
               "LIMIT ?2)");
        s.bind(1, static_cast<std::int64_t>(from)).bind(2, kIndexChunk);
        if (s.step()) {
          to = static_cast<std::uint64_t>(s.integer(0));
          rows = s.integer(1);
        }
      }
      if (to > from) {
        Stmt s(db.db,
               "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages "
               "WHERE id > ?1 AND id <= ?2");
        s.bind(1, static_cast<std::int64_t>(from)).bind(2, static_cast<std::int64_t>(to)).run();
        db.set_meta("indexed", std::to_string(to));
      }
      exec(db.db, "COMMIT");
    } catch (const DbError&) {
      sqlite3_exec(db.db, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;  // the next cycle tries again; the write path reports failures
    }
    // Only this thread writes messages: a chunk that was not full was the last one.
    const bool caught_up = to <= from || rows < kIndexChunk;
    {
      std::lock_guard lock(mutex_);
      // Caught up, the index covers every id written, those of direct messages (never
      // stored) included: a search waits for the newest id, which may be one of them.
      indexed_id_ = caught_up ? std::max({indexed_id_, to, written_id_}) : to;
    }
    wake_.notify_all();
    if (caught_up) return true;
    from = to;
  }
  return false;
}

void Store::apply_retention() {
  next_retention_ = Clock::now() + kRetentionEvery;
  if (options_.keep_days <= 0 && options_.keep_messages == 0) return;
  Db& db = *writer_db_;
  try {
    // A bounded number of rows per transaction, so that a first run against a big old
    // store never holds up the messages being written now.
    std::int64_t deleted = 0;
    exec(db.db, "BEGIN IMMEDIATE");
    if (options_.keep_days > 0) {
      // Only the oldest rows by id are looked at (ids follow the clock), so a round reads at
      // most a chunk whether or not anything is old enough. Messages dated ahead by a wrong
      // clock stay until their date passes; while a whole chunk of them leads, so do the
      // messages after them.
      Stmt s(db.db,
             "DELETE FROM messages WHERE id IN (SELECT id FROM (SELECT id, ts FROM messages "
             "ORDER BY id LIMIT ?2) WHERE ts < ?1)");
      s.bind(1, wall_ms() - std::int64_t{options_.keep_days} * 86'400'000)
          .bind(2, kRetentionChunk)
          .run();
      deleted += sqlite3_changes64(db.db);
    }
    if (options_.keep_messages > 0) {
      Stmt s(db.db,
             "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE id < (SELECT id FROM "
             "messages ORDER BY id DESC LIMIT 1 OFFSET ?1) ORDER BY id LIMIT ?2)");
      s.bind(1, static_cast<std::int64_t>(options_.keep_messages) - 1)
          .bind(2, kRetentionChunk)
          .run();
      deleted += sqlite3_changes64(db.db);
    }
    if (deleted > 0) {
      Stmt s(db.db, "UPDATE meta SET value = CAST(value AS INTEGER) - ?1 WHERE key = 'count'");
      s.bind(1, deleted).run();
    }
    exec(db.db, "COMMIT");
    if (deleted > 0) {
      const auto oldest = static_cast<std::uint64_t>(db.scalar("SELECT min(id) FROM messages"));
      std::lock_guard lock(mutex_);
      status_.messages -=
          std::min<std::uint64_t>(status_.messages, static_cast<std::uint64_t>(deleted));
      status_.oldest_id = oldest;
      status_changed_ = true;
      if (deleted == kRetentionChunk * ((options_.keep_days > 0) + (options_.keep_messages > 0))) {
        next_retention_ = Clock::now();  // more to go: next round at once
      }
    }
  } catch (const DbError&) {
    sqlite3_exec(db.db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Store::report_status(bool force) {
  std::function<void(const StoreStatus&)> cb;
  StoreStatus copy;
  {
    std::lock_guard lock(mutex_);
    if (!on_status_) return;
    const auto now = Clock::now();
    if (!force && (!status_changed_ || now - last_report_ < std::chrono::seconds(1))) return;
    last_report_ = now;
    status_changed_ = false;
    cb = on_status_;
  }
  const std::uint64_t bytes = options_.file.empty() ? 0 : file_bytes(options_.file);
  {
    std::lock_guard lock(mutex_);
    status_.bytes = bytes;
    copy = status_;
  }
  cb(copy);
}

}  // namespace lanchat::net

#pragma once
// The room's memory: every message, the room's identity and its bans, in SQLite (WAL, one
// file per room). The net thread never waits for the disk: it hands writes to a writer
// thread that commits them in batches (every 100 ms), and reads (history pages, search)
// to a reader thread with its own connection; their answers come back through callbacks
// that run on those threads (the server posts them to the net thread).
//
// A room without a store (--no-store) uses the same code on an SQLite database in memory,
// so paging and search work there too; it forgets everything when the server stops.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "net/paths.hpp"

struct sqlite3;

namespace lanchat::net {

struct StoredMsg {
  std::uint64_t id = 0;
  std::int64_t ts = 0;
  std::string from;
  std::string text;
  bool action = false;
};

struct Ban {
  std::string address;     // the banned IP address
  std::int64_t until = 0;  // ms since the epoch; 0: until unbanned
  std::string nick;        // who was banned, for the panel
  std::string reason;
  std::int64_t created = 0;
};

struct StoreOptions {
  std::filesystem::path file;       // empty: in memory only
  int keep_days = 0;                // 0: keep everything
  std::uint64_t keep_messages = 0;  // 0: keep everything
  std::size_t recent = 2000;        // newest messages loaded at open
  std::chrono::milliseconds batch_interval{100};
  // How long open() waits for another holder of the store to let go: a host that was just
  // stopped (the window's own, restarted for the same room) still writes its last batch.
  std::chrono::milliseconds lock_wait{5000};
  // Asked every 20 ms while open() waits for that holder, on the opening thread, with the
  // holder's process number (0 if unknown): false gives up at once with StoreCancelled.
  // A window that leaves, or a host that is interrupted, must not wait the whole lock_wait.
  std::function<bool(long holder)> keep_waiting;
};

// What the store held when it was opened.
struct StoreContents {
  std::string room_id;
  std::uint64_t last_id = 0;      // the highest message id ever given out in this room
  std::uint64_t oldest_id = 0;    // the oldest message kept (0: none)
  std::uint64_t count = 0;        // messages kept
  std::vector<StoredMsg> recent;  // the newest ones, oldest first
  std::vector<Ban> bans;          // those still in force
  bool created = false;           // a new store
};

struct StoreStatus {
  std::string path;  // empty: in memory
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  std::uint64_t oldest_id = 0;
  bool failing = false;
  std::string error;          // why writing fails, while it does
  std::uint64_t unsaved = 0;  // messages waiting to be written again while it fails
};

// A store that cannot be opened: the message names the file and what to do about it.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// open() gave up waiting for another host's lock because its keep_waiting said so.
class StoreCancelled : public StoreError {
 public:
  using StoreError::StoreError;
};

// The command line's choices about history, for whichever room is hosted.
struct StoreSettings {
  std::filesystem::path data_dir;  // empty: default_data_dir()
  bool no_store = false;           // memory only
  int keep_days = 0;
  std::uint64_t keep_messages = 0;
};
// A room kept in memory only forgets its oldest messages past this many (unless told).
inline constexpr std::uint64_t kMemoryRoomMessages = 100'000;
struct StoreOptions;
StoreOptions store_options(const StoreSettings& settings, std::string_view room);

// Process-wide SQLite settings; call once at start, before any store is opened (later it
// changes nothing). Turns off SQLite's memory statistics: each of its allocations otherwise
// takes a global mutex, which was a fifth of the store thread's time while it wrote and
// indexed 170,000 messages a second.
void configure_sqlite();

// Where a room's store lives: DIR/rooms/<room>.sqlite3, with characters a file name
// cannot hold written as %XX.
std::filesystem::path room_store_path(const std::filesystem::path& data_dir, std::string_view room);

class Store {
 public:
  static constexpr int kSchemaVersion = 1;
  // Reads waiting for the reader thread beyond this many are refused (the caller says so).
  static constexpr std::size_t kMaxQueuedReads = 256;

  using Messages = std::vector<StoredMsg>;
  struct Db;  // one SQLite connection and its prepared statements (store.cpp)

  // Opens or creates the store, migrating an older schema. Throws StoreError; a file that
  // cannot be read as a lanchat store is never written to, moved or deleted. A store on
  // disk is held by one Store at a time, across processes: another host writing the same
  // room would give out the same message ids and replace this one's rows.
  static std::unique_ptr<Store> open(const StoreOptions& options, StoreContents& contents);
  ~Store();  // writes what is still queued, then stops the threads
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- from the net thread; none of these waits for the disk ----
  void append(StoredMsg m);
  void append(std::vector<StoredMsg>& batch);  // takes them all, under one lock
  // Ids given out but not stored (direct messages) still move the room's counter on, so a
  // restart never gives an id out twice.
  void note_last_id(std::uint64_t id);
  void put_ban(Ban b);
  void remove_ban(std::string address);
  // The messages with id < before (all: before = 0), newest `limit` of them, oldest first;
  // `more` if older ones exist. False if too many reads are waiting already.
  bool history(std::uint64_t before, std::size_t limit,
               std::function<void(Messages, bool more)> done);
  // Messages matching every word of `text` (as words or word beginnings, diacritics
  // folded), newest first.
  bool search(std::string text, std::size_t limit, std::function<void(Messages)> done);
  // `done` runs once everything appended before this call is committed (or has failed).
  void flush(std::function<void()> done);
  // Called on the writer thread when the status changes (a write fails or recovers) and
  // at most once a second otherwise while messages are written.
  void set_status_callback(std::function<void(const StoreStatus&)> cb);
  StoreStatus status() const;

 private:
  struct Append {
    StoredMsg msg;
  };
  struct LastId {
    std::uint64_t id;
  };
  struct PutBan {
    Ban ban;
  };
  struct RemoveBan {
    std::string address;
  };
  using Op = std::variant<Append, LastId, PutBan, RemoveBan>;
  // A read sees every write queued before it: it waits until the writer has committed
  // them (`after`), and asks the writer not to wait for its usual interval.
  struct Read {
    std::function<void(Db&)> run;
    std::uint64_t after = 0;
    std::uint64_t indexed = 0;  // a search also waits until these ids are indexed
  };

  // An flock on FILE.lock, held from open to the end of the destructor. The kernel lets
  // go of it however the process ends, so a killed host never leaves the room locked.
  struct Lock {
    explicit Lock(int descriptor = -1) : fd(descriptor) {}
    Lock(Lock&& other) noexcept : fd(other.fd) { other.fd = -1; }
    Lock& operator=(Lock&&) = delete;
    ~Lock();
    int fd;
  };
  static Lock lock_file(const std::filesystem::path& store, const StoreOptions& options);

  Store(const StoreOptions& options, Lock lock, std::unique_ptr<Db> writer,
        std::unique_ptr<Db> reader);
  void writer_loop();
  void reader_loop();
  bool write_batch(std::vector<Op>& ops);
  void apply_retention();
  void run_reads(Db& db, std::unique_lock<std::mutex>& lock);
  void report_status(bool force);
  bool queue_read(std::function<void(Db&)> r, bool needs_index);
  bool ready(const Read& r) const { return r.after <= committed_ops_ && r.indexed <= indexed_id_; }
  // Adds committed messages to the search index, in bulk, for at most `budget`. Returns
  // whether it caught up, so the writer knows it may sleep.
  bool index_pending(std::chrono::milliseconds budget);

  StoreOptions options_;
  Lock lock_;  // first: released only after the connections below have closed
  std::unique_ptr<Db> writer_db_;
  std::unique_ptr<Db> reader_db_;  // null in memory: the writer thread reads too

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Op> ops_;
  std::vector<Op> retry_;            // a failed batch, written again later
  std::vector<Op> spare_ops_;        // the writer's emptied batch, handed back as ops_
  std::uint64_t queued_ops_ = 0;     // ops ever queued
  std::uint64_t committed_ops_ = 0;  // ops ever handled by the writer (written or given up)
  bool hurry_ = false;               // a read waits: commit now
  std::uint64_t appended_id_ = 0;    // the newest message id handed to the store
  std::uint64_t indexed_id_ = 0;     // messages up to here are in the search index
  std::uint64_t written_id_ = 0;     // the writer's own: ids up to here are committed
  std::deque<Read> reads_;
  std::vector<std::function<void()>> flushes_;
  bool stop_ = false;
  StoreStatus status_;
  std::function<void(const StoreStatus&)> on_status_;
  std::chrono::steady_clock::time_point last_report_{};
  bool status_changed_ = false;  // since the last report
  std::chrono::steady_clock::time_point retry_after_{};
  std::chrono::steady_clock::time_point next_retention_{};

  std::thread writer_;
  std::thread reader_;
};

}  // namespace lanchat::net

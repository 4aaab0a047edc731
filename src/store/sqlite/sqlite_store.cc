#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <initializer_list>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "fhir/json.h"
#include "store/meta.h"
#include "store/sqlite/json_codec.h"
#include "store/sqlite/public_health_sqlite.h"
#include "store/sqlite/purge_sqlite.h"
#include "store/sqlite/records_sqlite.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_db.h"

namespace clinshub::store {

namespace {

using sqlite::CompressJson;
using sqlite::Connection;
using sqlite::DecodeStoredJson;
using sqlite::ScopedReset;
using sqlite::Statement;

constexpr const char* kDatabaseFileName = "clinshub.sqlite3";

// Columns every version query selects, in this order (see RowToVersion).
constexpr const char* kVersionColumns = "v.version, v.last_updated, v.deleted, v.content";

std::string Name(const std::string& type, const std::string& id) { return type + "/" + id; }

using sqlite::FromMicros;
using sqlite::ToMicros;

// Every read of resource_version.content goes through here, so old plain-text rows and
// compressed ones (json_codec.h) read alike.
Result<ResourceVersion> RowToVersion(const Statement& s, const std::string& type,
                                     const std::string& id) {
  ResourceVersion v;
  v.type = type;
  v.id = id;
  v.version = s.ColumnInt64(0);
  v.last_updated = FromMicros(s.ColumnInt64(1));
  v.deleted = s.ColumnInt64(2) != 0;
  if (!v.deleted) {
    const std::string_view stored = s.ColumnBytes(3);
    Result<std::string> json = DecodeStoredJson(stored.data(), stored.size());
    if (!json.ok()) return json.take_status();
    v.json = std::move(*json);
  }
  return v;
}

// Columns every unit query selects, in this order (see RowToUnit).
constexpr const char* kUnitColumns = CLINSHUB_UNIT_COLUMNS("");
using sqlite::RowToUnit;

std::string UnitName(const UnitKey& key) {
  return "reporting unit " + key.system + "|" + key.value;
}

Status PreconditionFailed(std::string message) {
  return Status::Error(ErrorCode::kPreconditionFailed, "conflict", std::move(message));
}

// Errors that belong to one batch (its input or its preconditions): the batch is rolled back
// to its savepoint and the rest of the group commits. Anything else is the database failing,
// which aborts the whole group transaction.
bool IsBatchError(ErrorCode code) {
  return code == ErrorCode::kPreconditionFailed || code == ErrorCode::kNotFound ||
         code == ErrorCode::kMalformed || code == ErrorCode::kForbidden ||
         code == ErrorCode::kConflict ||
         code == ErrorCode::kGone;
}

// One statement to prepare into a connection's slot.
struct StatementSpec {
  std::unique_ptr<Statement>* slot;
  std::string sql;
};

// Prepares every statement once, for the connection's lifetime.
Status PrepareAll(Connection& db, std::initializer_list<StatementSpec> statements) {
  for (const StatementSpec& s : statements) {
    Result<std::unique_ptr<Statement>> stmt = db.Prepare(s.sql);
    if (!stmt.ok()) return stmt.take_status();
    *s.slot = std::move(*stmt);
  }
  return Status::Ok();
}

// A read-only connection with its statements, prepared once and reused for its lifetime.
struct ReadConnection {
  std::unique_ptr<Connection> db;
  std::unique_ptr<Statement> current;
  std::unique_ptr<Statement> version;
  std::unique_ptr<Statement> history;
  std::unique_ptr<Statement> ping;
  std::unique_ptr<Statement> begin_session;   // a read session's snapshot (store::ReadSession)
  std::unique_ptr<Statement> end_session;
  std::unique_ptr<Statement> unit;
  std::unique_ptr<Statement> units_by_identifier;
  std::unique_ptr<Statement> unit_by_bundle;
  std::unique_ptr<Statement> units_of_person;
  std::unique_ptr<Statement> items;
  std::unique_ptr<Statement> generation;
  std::unique_ptr<sqlite::RecordReader> records;
  std::unique_ptr<sqlite::PublicHealthReader> public_health;

  static Result<std::unique_ptr<ReadConnection>> Open(const std::string& file,
                                                      const SqliteOptions& options) {
    auto rc = std::make_unique<ReadConnection>();
    Result<std::unique_ptr<Connection>> db =
        Connection::Open(file, false, options.busy_timeout_ms);
    if (!db.ok()) return db.take_status();
    rc->db = std::move(*db);
    // Belt and braces: a read connection that cannot write cannot break the single-writer rule.
    CLINSHUB_RETURN_IF_ERROR(rc->db->Exec("PRAGMA query_only = 1"));
    // The B-tree's upper pages stay here instead of being read through pread on every query.
    CLINSHUB_RETURN_IF_ERROR(
        rc->db->Exec("PRAGMA cache_size = -" + std::to_string(options.reader_cache_kib)));
    const std::string cols = kVersionColumns;
    CLINSHUB_RETURN_IF_ERROR(PrepareAll(*rc->db, {
        {&rc->current,
         "SELECT " + cols +
             " FROM resource_current c JOIN resource_version v"
             " ON v.type = c.type AND v.id = c.id AND v.version = c.version"
             " WHERE c.type = ?1 AND c.id = ?2"},
        {&rc->version, "SELECT " + cols +
                           " FROM resource_version v"
                           " WHERE v.type = ?1 AND v.id = ?2 AND v.version = ?3"},
        {&rc->history, "SELECT " + cols +
                           " FROM resource_version v WHERE v.type = ?1 AND v.id = ?2"
                           " ORDER BY v.version DESC LIMIT ?3"},
        {&rc->ping, "SELECT MAX(version) FROM schema_migrations"},
        {&rc->begin_session, "BEGIN"},
        {&rc->end_session, "COMMIT"},
        {&rc->unit, std::string("SELECT ") + kUnitColumns +
                        " FROM unit WHERE person_key = ?1 AND id_system = ?2 AND id_value = ?3"},
        {&rc->units_of_person,
         std::string("SELECT ") + kUnitColumns +
             " FROM unit WHERE person_key = ?1 ORDER BY last_changed DESC, id_value"},
        {&rc->unit_by_bundle,
         std::string("SELECT ") + kUnitColumns + " FROM unit WHERE bundle_id = ?1"},
        {&rc->units_by_identifier,
         std::string("SELECT ") + kUnitColumns +
             " FROM unit WHERE id_system = ?1 AND id_value = ?2 ORDER BY person_key"},
        // Withdrawn units have no items; the status test keeps that true even if a future
        // write path forgot to delete them.
        {&rc->items,
         "SELECT i.person_key, i.bundle_id, u.version, i.ordinal, i.kind, i.resource_type,"
         " i.code_system, i.code, i.text, i.clinical_date, i.flags, i.institution,"
         " i.registered, i.json, i.json_at, i.json_len"
         " FROM item i JOIN unit u ON u.person_key = i.person_key AND u.bundle_id = i.bundle_id"
         " WHERE i.person_key = ?1 AND u.status = 1"
         " ORDER BY i.kind, i.clinical_date DESC, i.bundle_id, i.ordinal"},
        {&rc->generation, "SELECT generation FROM person_generation WHERE person_key = ?1"},
    }));
    Result<std::unique_ptr<sqlite::RecordReader>> records = sqlite::RecordReader::Prepare(*rc->db);
    if (!records.ok()) return records.take_status();
    rc->records = std::move(*records);
    Result<std::unique_ptr<sqlite::PublicHealthReader>> ph =
        sqlite::PublicHealthReader::Prepare(*rc->db);
    if (!ph.ok()) return ph.take_status();
    rc->public_health = std::move(*ph);
    return rc;
  }
};

// The one connection that writes, used only by the writer thread after open.
struct WriteConnection {
  std::unique_ptr<Connection> db;
  std::unique_ptr<Statement> begin;
  std::unique_ptr<Statement> commit;
  std::unique_ptr<Statement> savepoint;
  std::unique_ptr<Statement> release;
  std::unique_ptr<Statement> rollback_to;
  std::unique_ptr<Statement> select_current;
  std::unique_ptr<Statement> insert_version;
  std::unique_ptr<Statement> upsert_current;
  std::unique_ptr<Statement> select_unit;
  std::unique_ptr<Statement> upsert_unit;
  std::unique_ptr<Statement> delete_items;
  std::unique_ptr<Statement> insert_item;
  std::unique_ptr<Statement> bump_generation;
  std::unique_ptr<sqlite::RecordWriter> records;
  std::unique_ptr<sqlite::PublicHealthWriter> public_health;

  static Result<std::unique_ptr<WriteConnection>> Open(const std::string& file,
                                                       const SqliteOptions& options,
                                                       const Clock& clock) {
    auto wc = std::make_unique<WriteConnection>();
    Result<std::unique_ptr<Connection>> db = Connection::Open(file, true, options.busy_timeout_ms);
    if (!db.ok()) return db.take_status();
    wc->db = std::move(*db);
    Result<std::string> mode = wc->db->QueryText("PRAGMA journal_mode = WAL");
    if (!mode.ok()) return mode.take_status();
    if (*mode != "wal") {
      return UnavailableError("sqlite: " + file + " cannot use WAL mode (journal_mode=" +
                              *mode + "); is it on a network file system?");
    }
    const char* sync = options.synchronous == SqliteOptions::Synchronous::kFull
                           ? "PRAGMA synchronous = FULL"
                           : "PRAGMA synchronous = NORMAL";
    CLINSHUB_RETURN_IF_ERROR(wc->db->Exec(sync));
    // Checkpoints are the checkpointer thread's job (SqliteOptions::checkpoint_pages); the
    // store's WAL hook replaces SQLite's auto-checkpoint hook once the store is running.
    CLINSHUB_RETURN_IF_ERROR(wc->db->Exec("PRAGMA wal_autocheckpoint = 0"));
    // A commit group dirties a few hundred pages and walks index pages all over the file; with
    // SQLite's default 2 MB cache the writer re-read them from the OS and spilled dirty pages
    // to the WAL mid-transaction (written again at COMMIT).
    CLINSHUB_RETURN_IF_ERROR(
        wc->db->Exec("PRAGMA cache_size = -" + std::to_string(options.writer_cache_kib)));
    CLINSHUB_RETURN_IF_ERROR(wc->db->Exec("PRAGMA foreign_keys = ON"));
    CLINSHUB_RETURN_IF_ERROR(sqlite::Migrate(*wc->db, clock));
    // From here on COMMIT never fsyncs: with Synchronous::kFull the store's syncer thread
    // fsyncs the WAL after each commit group and only then answers its callers, while the
    // writer goes on with the next group (SqliteStore::Finish). WAL mode at NORMAL stays
    // consistent after a crash; durability is the syncer's.
    CLINSHUB_RETURN_IF_ERROR(wc->db->Exec("PRAGMA synchronous = NORMAL"));
    const std::string select_unit =
        std::string("SELECT ") + kUnitColumns +
        " FROM unit WHERE person_key = ?1 AND id_system = ?2 AND id_value = ?3";
    CLINSHUB_RETURN_IF_ERROR(PrepareAll(*wc->db, {
        // IMMEDIATE: take the write lock at BEGIN, so a second process fails (busy) before we
        // apply anything rather than at COMMIT.
        {&wc->begin, "BEGIN IMMEDIATE"},
        {&wc->commit, "COMMIT"},
        {&wc->savepoint, "SAVEPOINT batch"},
        {&wc->release, "RELEASE batch"},
        {&wc->rollback_to, "ROLLBACK TO batch"},
        {&wc->select_current,
         "SELECT version, deleted, last_updated FROM resource_current"
         " WHERE type = ?1 AND id = ?2"},
        {&wc->insert_version,
         "INSERT INTO resource_version (type, id, version, last_updated, deleted, content)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&wc->upsert_current,
         "INSERT INTO resource_current (type, id, version, deleted, last_updated)"
         " VALUES (?1, ?2, ?3, ?4, ?5)"
         " ON CONFLICT (type, id) DO UPDATE SET version = excluded.version,"
         " deleted = excluded.deleted, last_updated = excluded.last_updated"},
        {&wc->select_unit, select_unit},
        // bundle_id, first_registered and the sender never change once a unit exists.
        {&wc->upsert_unit,
         "INSERT INTO unit (person_key, id_system, id_value, bundle_id, version, status,"
         " institution, kind, addressee, content_hash, first_registered, last_changed)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
         " ON CONFLICT (person_key, id_system, id_value) DO UPDATE SET"
         " version = excluded.version, status = excluded.status, kind = excluded.kind,"
         " addressee = excluded.addressee, content_hash = excluded.content_hash,"
         " last_changed = excluded.last_changed"},
        {&wc->delete_items, "DELETE FROM item WHERE person_key = ?1 AND bundle_id = ?2"},
        {&wc->insert_item,
         "INSERT INTO item (person_key, bundle_id, ordinal, kind, resource_type, code_system,"
         " code, text, clinical_date, flags, institution, registered, json, json_at, json_len)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"},
        {&wc->bump_generation, sqlite::kBumpItemsGenerationSql},
    }));
    Result<std::unique_ptr<sqlite::RecordWriter>> records = sqlite::RecordWriter::Prepare(*wc->db);
    if (!records.ok()) return records.take_status();
    wc->records = std::move(*records);
    Result<std::unique_ptr<sqlite::PublicHealthWriter>> ph =
        sqlite::PublicHealthWriter::Prepare(*wc->db);
    if (!ph.ok()) return ph.take_status();
    wc->public_health = std::move(*ph);
    return wc;
  }
};

Status RunOnce(Statement& s) {
  ScopedReset reset(s);
  return s.Run();
}

// A resource serialised on the committing caller's thread, with holes where the writer
// thread puts what only it can know (the version, lastUpdated and, for a unit's Bundle, its
// logical id). Serialising a 12 KB Bundle is ~5-9 % of the writer's time when done there;
// filling the holes is two string appends.
struct PreparedJson {
  std::string type;
  std::string id;  // empty for a unit's Bundle: the writer assigns it
  std::string text;
  // Where `"versionId":"…","lastUpdated":"…"` goes: inside meta, where StampMeta would have
  // put versionId, so every other member of the submitted meta (profile, tag, security) stays.
  size_t meta_at = 0;
  // Unit Bundles only: where the id's characters go, between the quotes of "id":"".
  size_t id_at = std::string::npos;
  // Compression moved off the writer thread too (CompressTail): everything after the last
  // hole, which is nearly all of the text (the holes are in id and meta, at the top), is one
  // compressed frame made by the caller; `text` then keeps only what comes before `tail_at`. The
  // stored content is a frame of the rendered head followed by this one (json_codec.h reads
  // concatenated frames as one document).
  size_t tail_at = std::string::npos;  // npos: not split (text is whole)
  std::string tail_frame;
  // Unit Bundles only, one per item: where the item's resource (Bundle.entry[item.entry]) lies
  // in `text` before the tail was cut (offset, length), so the item is stored as a slice of
  // its Bundle, not a second copy; offset npos when the item names no entry (it is then
  // stored with its own JSON).
  std::vector<std::pair<size_t, size_t>> item_spans;
};

// Marks the holes (and, for a unit's Bundle, its items' resources) and serialises `resource`
// once (which the caller then discards); the writer tells where each marked node went, so
// nothing is searched for. nullopt: not preparable here (not an object, bad meta, …); the
// writer serialises it the old way and reports any error in the batch, as before.
std::optional<PreparedJson> Prepare(fhir::Value& resource, bool assign_id,
                                    const std::vector<Item>* items) {
  if (!resource.is_object()) return std::nullopt;
  PreparedJson p;
  if (assign_id) {
    p.type = "Bundle";
    SetId(resource, "");  // the writer fills the id in between the quotes
  } else {
    Result<ResourceName> name = NameOf(resource);
    if (!name.ok()) return std::nullopt;
    p.type = std::move(name->type);
    p.id = std::move(name->id);
  }
  // StampMeta places meta (after id) and keeps its other members; then versionId is an empty
  // string whose member is cut out, and the writer puts versionId and lastUpdated there.
  if (!StampMeta(resource, 1, Timestamp()).ok()) return std::nullopt;
  fhir::Value* meta = resource.FindMutable("meta");
  meta->Set("versionId", fhir::Value::String(""));
  meta->Erase("lastUpdated");
  std::vector<const fhir::Value*> marks = {meta->Find("versionId"),
                                           assign_id ? resource.Find("id") : nullptr};
  if (items != nullptr) {
    const fhir::Value* entries = resource.Find("entry");
    for (const Item& item : *items) {
      const fhir::Value* node = nullptr;
      if (entries != nullptr && item.entry >= 0 &&
          static_cast<size_t>(item.entry) < entries->items().size()) {
        node = entries->items()[static_cast<size_t>(item.entry)].Find("resource");
      }
      marks.push_back(node);
    }
  }
  fhir::JsonSpans spans;
  std::string text = fhir::WriteJsonMarked(resource, marks, &spans);
  constexpr std::string_view kVersionKey = "\"versionId\":";
  const size_t value_at = spans[0].first;
  if (value_at == std::string::npos || value_at < kVersionKey.size() ||
      std::string_view(text).substr(value_at - kVersionKey.size(), kVersionKey.size()) !=
          kVersionKey) {
    return std::nullopt;
  }
  const size_t meta_at = value_at - kVersionKey.size();
  const size_t hole = kVersionKey.size() + 2;  // "versionId":""
  text.erase(meta_at, hole);
  // Positions after the cut move back by its size.
  auto cut = [&](size_t at) { return at != std::string::npos && at > meta_at ? at - hole : at; };
  p.meta_at = meta_at;
  if (assign_id) {
    if (spans[1].first == std::string::npos) return std::nullopt;
    p.id_at = cut(spans[1].first) + 1;  // between the quotes of "id":""
  }
  for (size_t i = 2; i < spans.size(); ++i) {
    // The entry must read back as the item's JSON exactly (it does for ExtractItems' items;
    // anything else keeps its own copy).
    const Item& item = (*items)[i - 2];
    const bool same = marks[i] != nullptr && spans[i].first != std::string::npos &&
                      std::string_view(text).substr(cut(spans[i].first), spans[i].second) ==
                          item.json;
    p.item_spans.emplace_back(same ? cut(spans[i].first) : std::string::npos, spans[i].second);
  }
  p.text = std::move(text);
  return p;
}

// The writer's values for the holes of a PreparedJson.
struct HoleValues {
  std::string_view id;
  std::string meta;  // "versionId":"N","lastUpdated":"…"
};

HoleValues MakeHoleValues(std::string_view id, int64_t version, Timestamp last_updated) {
  HoleValues h;
  h.id = id;
  h.meta = "\"versionId\":\"";
  h.meta += std::to_string(version);
  h.meta += "\",\"lastUpdated\":\"";
  h.meta += FormatInstant(last_updated);
  h.meta += '"';
  return h;
}

// `text` (the prepared text, or its head when the tail was cut) with the holes filled.
std::string Render(const PreparedJson& p, const HoleValues& h) {
  std::string out;
  out.reserve(p.text.size() + h.meta.size() + h.id.size());
  size_t from = 0;
  auto fill = [&](size_t at, std::string_view with) {
    out.append(p.text, from, at - from);
    out += with;
    from = at;
  };
  if (p.id_at != std::string::npos && p.id_at < p.meta_at) fill(p.id_at, h.id);
  fill(p.meta_at, h.meta);
  if (p.id_at != std::string::npos && p.id_at >= p.meta_at) fill(p.id_at, h.id);
  out.append(p.text, from, std::string::npos);
  return out;
}

// The bytes stored in resource_version.content: the rendered head compressed here (a few
// hundred bytes) followed by the caller's frame of the tail, or the whole rendering
// compressed when the caller did not split it.
std::string StoredContent(const PreparedJson& p, const HoleValues& h) {
  std::string content = CompressJson(Render(p, h));
  content += p.tail_frame;
  return content;
}

// Where a position of the prepared text (holes cut out) lands in the stored JSON.
size_t FinalOffset(const PreparedJson& p, const HoleValues& h, size_t offset) {
  size_t shift = 0;
  if (p.id_at != std::string::npos && offset >= p.id_at) shift += h.id.size();
  if (offset >= p.meta_at) shift += h.meta.size();
  return offset + shift;
}

// The caller's share of the work once the holes are known: compress the tail.
void CompressTail(PreparedJson& p) {
  p.tail_at = std::max(p.meta_at, p.id_at == std::string::npos ? 0 : p.id_at);
  p.tail_frame = CompressJson(std::string_view(p.text).substr(p.tail_at));
  p.text.resize(p.tail_at);
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, const Clock& clock,
              std::unique_ptr<WriteConnection> writer,
              std::vector<std::unique_ptr<ReadConnection>> readers,
              std::unique_ptr<Connection> checkpointer)
      : clock_(clock),
        owned_ids_(options.ids == nullptr ? std::make_unique<RandomIdGenerator>() : nullptr),
        ids_(options.ids != nullptr ? *options.ids : *owned_ids_),
        max_group_batches_(static_cast<size_t>(options.max_group_batches)),
        checkpoint_pages_(options.checkpoint_pages),
        truncate_pages_(options.truncate_pages),
        relax_read_audits_(options.relaxed_read_audit_sync &&
                           options.synchronous == SqliteOptions::Synchronous::kFull),
        relaxed_flush_delay_(std::chrono::milliseconds(options.relaxed_sync_flush_ms)),
        syncing_(options.synchronous == SqliteOptions::Synchronous::kFull),
        writer_(std::move(writer)),
        idle_readers_(std::move(readers)),
        checkpointer_(std::move(checkpointer)),
        checkpoint_thread_([this] { CheckpointLoop(); }),
        writer_thread_([this] { WriterLoop(); }) {
    // Both before the writer thread sees its first batch (it is waiting on an empty queue):
    // every commit reports the WAL's size to OnWalCommit, and the syncer knows the WAL file.
    sqlite3_wal_hook(writer_->db->raw(), &SqliteStore::WalHook, this);
    (void)sqlite3_file_control(writer_->db->raw(), "main", SQLITE_FCNTL_JOURNAL_POINTER,
                               &wal_file_);
    sync_thread_ = std::thread([this] { SyncLoop(); });
  }

  ~SqliteStore() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    writer_thread_.join();
    {
      // Every commit is made; the syncer fsyncs what still waits (and any relaxed window).
      std::lock_guard lock(sync_mu_);
      sync_stopping_ = true;
    }
    sync_cv_.notify_all();
    sync_thread_.join();
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpoint_thread_.join();
    // The members close the connections next; closing the last one (the writer) checkpoints
    // whatever the WAL still holds into the database file and removes the WAL.
  }

  Result<ResourceVersion> Read(const std::string& type, const std::string& id) override {
    ReadLease lease(*this);
    Statement& s = *lease->current;
    ScopedReset reset(s);
    s.BindText(1, type);
    s.BindText(2, id);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) return NotFoundError(Name(type, id) + " not found");
    Result<ResourceVersion> read = RowToVersion(s, type, id);
    if (!read.ok()) return read.take_status();
    ResourceVersion& v = *read;
    if (v.deleted) {
      return Status::Error(ErrorCode::kGone, "deleted",
                           Name(type, id) + " was deleted (version " +
                               std::to_string(v.version) + ")");
    }
    return read;
  }

  Result<ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                      int64_t version) override {
    ReadLease lease(*this);
    Statement& s = *lease->version;
    ScopedReset reset(s);
    s.BindText(1, type);
    s.BindText(2, id);
    s.BindInt64(3, version);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) {
      return NotFoundError(Name(type, id) + " has no version " + std::to_string(version));
    }
    return RowToVersion(s, type, id);
  }

  Result<std::vector<ResourceVersion>> History(const std::string& type, const std::string& id,
                                               size_t limit) override {
    ReadLease lease(*this);
    Statement& s = *lease->history;
    ScopedReset reset(s);
    s.BindText(1, type);
    s.BindText(2, id);
    // At least one row, so that limit 0 still tells "never existed" from "exists".
    s.BindInt64(3, static_cast<int64_t>(std::clamp<size_t>(limit, 1, INT64_MAX)));
    std::vector<ResourceVersion> versions;
    while (true) {
      Result<bool> row = s.Step();
      if (!row.ok()) return row.take_status();
      if (!*row) break;
      Result<ResourceVersion> v = RowToVersion(s, type, id);
      if (!v.ok()) return v.take_status();
      versions.push_back(std::move(*v));
    }
    if (versions.empty()) return NotFoundError(Name(type, id) + " not found");
    versions.resize(std::min(versions.size(), limit));
    return versions;
  }

  Result<CommitResult> Commit(WriteBatch batch) override {
    if (batch.ops.empty()) return CommitResult{};
    auto pending = std::make_unique<PendingCommit>();
    pending->batch = std::move(batch);
    PrepareOps(*pending);
    std::future<Result<CommitResult>> done = pending->done.get_future();
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) return UnavailableError("store is shutting down");
      queue_.push_back(std::move(pending));
    }
    queue_cv_.notify_one();
    return done.get();
  }

  Result<UnitRecord> ReadUnit(const UnitKey& key) override {
    ReadLease lease(*this);
    Statement& s = *lease->unit;
    ScopedReset reset(s);
    s.BindText(1, key.person_key);
    s.BindText(2, key.system);
    s.BindText(3, key.value);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) return NotFoundError(UnitName(key) + " is not registered");
    return RowToUnit(s);
  }

  Result<std::vector<UnitRecord>> FindUnits(const std::string& system,
                                            const std::string& value) override {
    ReadLease lease(*this);
    Statement& s = *lease->units_by_identifier;
    ScopedReset reset(s);
    s.BindText(1, system);
    s.BindText(2, value);
    std::vector<UnitRecord> units;
    while (true) {
      Result<bool> row = s.Step();
      if (!row.ok()) return row.take_status();
      if (!*row) break;
      units.push_back(RowToUnit(s));
    }
    return units;
  }

  Result<std::vector<UnitRecord>> ListUnits(const std::string& person_key) override {
    ReadLease lease(*this);
    Statement& s = *lease->units_of_person;
    ScopedReset reset(s);
    s.BindText(1, person_key);
    std::vector<UnitRecord> units;
    while (true) {
      Result<bool> row = s.Step();
      if (!row.ok()) return row.take_status();
      if (!*row) break;
      units.push_back(RowToUnit(s));
    }
    return units;
  }

  Result<UnitRecord> FindUnitByBundleId(const std::string& bundle_id) override {
    ReadLease lease(*this);
    Statement& s = *lease->unit_by_bundle;
    ScopedReset reset(s);
    s.BindText(1, bundle_id);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) return NotFoundError("No reporting unit has Bundle/" + bundle_id);
    return RowToUnit(s);
  }

  // Each purge step runs on the writer thread as a job of its own, queued behind the commits
  // already waiting, so commits keep flowing between steps (sqlite/purge_sqlite.h).
  Result<PurgeReport> Purge(const RetentionPolicy& policy, Timestamp now, bool dry_run) override {
    return sqlite::PurgeExpired(policy, now, dry_run, [this](sqlite::PurgeStep step) -> Status {
      auto pending = std::make_unique<PendingCommit>();
      pending->job = std::move(step);
      std::future<Result<CommitResult>> done = pending->done.get_future();
      {
        std::lock_guard lock(queue_mu_);
        if (stopping_) return UnavailableError("store is shutting down");
        queue_.push_back(std::move(pending));
      }
      queue_cv_.notify_one();
      Result<CommitResult> r = done.get();
      return r.ok() ? Status::Ok() : r.status();
    });
  }

  Result<std::vector<StoredItem>> ListItems(const std::string& person_key) override {
    ReadLease lease(*this);
    Statement& s = *lease->items;
    ScopedReset reset(s);
    s.BindText(1, person_key);
    std::vector<StoredItem> items;
    // Items stored as slices of their unit's Bundle: each Bundle is read (and decompressed)
    // once, while the items statement is still open, so both come from one snapshot.
    std::vector<std::pair<std::string, std::string>> bundles;  // bundle id → stored JSON
    while (true) {
      Result<bool> row = s.Step();
      if (!row.ok()) return row.take_status();
      if (!*row) break;
      StoredItem it;
      it.person_key = s.ColumnText(0);
      it.bundle_id = s.ColumnText(1);
      it.bundle_version = s.ColumnInt64(2);
      it.ordinal = static_cast<int>(s.ColumnInt64(3));
      it.item.kind = static_cast<ItemKind>(s.ColumnInt64(4));
      it.item.resource_type = s.ColumnText(5);
      it.item.code_system = s.ColumnText(6);
      it.item.code = s.ColumnText(7);
      it.item.text = s.ColumnText(8);
      if (!s.ColumnIsNull(9)) it.item.clinical_date = FromMicros(s.ColumnInt64(9));
      it.item.flags = static_cast<uint32_t>(s.ColumnInt64(10));
      it.institution = s.ColumnText(11);
      it.registered = FromMicros(s.ColumnInt64(12));
      if (s.ColumnIsNull(14)) {
        it.item.json = s.ColumnText(13);
      } else {
        auto cached = std::find_if(bundles.begin(), bundles.end(),
                                   [&](const auto& b) { return b.first == it.bundle_id; });
        if (cached == bundles.end()) {
          Result<std::string> json = ReadBundleJson(lease, it.bundle_id, it.bundle_version);
          if (!json.ok()) return json.take_status();
          bundles.emplace_back(it.bundle_id, std::move(*json));
          cached = std::prev(bundles.end());
        }
        const int64_t at = s.ColumnInt64(14), len = s.ColumnInt64(15);
        if (at < 0 || len < 0 || static_cast<uint64_t>(at + len) > cached->second.size()) {
          return InternalError("sqlite: item " + it.bundle_id + "/" +
                               std::to_string(it.ordinal) + " lies outside its Bundle");
        }
        it.item.json = cached->second.substr(static_cast<size_t>(at), static_cast<size_t>(len));
      }
      items.push_back(std::move(it));
    }
    return items;
  }

  Result<int64_t> ItemsGeneration(const std::string& person_key) override {
    ReadLease lease(*this);
    Statement& s = *lease->generation;
    ScopedReset reset(s);
    s.BindText(1, person_key);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    return *row ? s.ColumnInt64(0) : 0;
  }

  Result<InstitutionRecord> ReadInstitution(const std::string& code) override {
    ReadLease lease(*this);
    return lease->records->ReadInstitution(code);
  }
  Result<std::vector<InstitutionRecord>> SearchInstitutions(const InstitutionQuery& q) override {
    ReadLease lease(*this);
    return lease->records->SearchInstitutions(q);
  }
  Result<RosterEntry> ResolveIdentifier(const std::string& system,
                                        const std::string& value) override {
    ReadLease lease(*this);
    return lease->records->ResolveIdentifier(system, value);
  }
  Result<std::vector<RosterEntry>> ListRosterEntries(const std::string& person_key) override {
    ReadLease lease(*this);
    return lease->records->ListRosterEntries(person_key);
  }
  Result<ConsentRecord> ReadConsent(const std::string& id) override {
    ReadLease lease(*this);
    return lease->records->ReadConsent(id);
  }
  Result<std::vector<ConsentRecord>> ListConsents(const std::string& person_key) override {
    ReadLease lease(*this);
    return lease->records->ListConsents(person_key);
  }
  Result<bool> HasActiveConsent(const std::string& person_key, const std::string& institution,
                                Timestamp at) override {
    ReadLease lease(*this);
    return lease->records->HasActiveConsent(person_key, institution, at);
  }
  Result<std::vector<ReferralRecipient>> ListReferralRecipients(const UnitKey& unit) override {
    ReadLease lease(*this);
    return lease->records->ListReferralRecipients(unit);
  }
  Result<std::vector<ReferralRecipient>> ListReferralsOfPerson(
      const std::string& person_key) override {
    ReadLease lease(*this);
    return lease->records->ListReferralsOfPerson(person_key);
  }
  Result<std::vector<InboxEntry>> ListInbox(const std::string& recipient, size_t limit) override {
    ReadLease lease(*this);
    return lease->records->ListInbox(recipient, limit);
  }
  Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query) override {
    ReadLease lease(*this);
    return lease->records->ListAudit(query);
  }
  Result<AuditVerification> VerifyAudit() override {
    ReadLease lease(*this);
    return lease->records->VerifyAudit();
  }

  Result<NotificationRecord> ReadNotification(const std::string& id) override {
    ReadLease lease(*this);
    return lease->public_health->ReadNotification(id);
  }
  Result<DeliveryRecord> ReadDelivery(const std::string& notification_id) override {
    ReadLease lease(*this);
    return lease->public_health->ReadDelivery(notification_id);
  }
  Result<std::vector<DeliveryRecord>> ListDueDeliveries(Timestamp now, size_t limit) override {
    ReadLease lease(*this);
    return lease->public_health->ListDueDeliveries(now, limit);
  }
  Result<ExportJob> ReadExportJob(const std::string& id) override {
    ReadLease lease(*this);
    return lease->public_health->ReadExportJob(id);
  }
  Result<std::vector<ExportJob>> ListExportJobs(ExportState state, size_t limit) override {
    ReadLease lease(*this);
    return lease->public_health->ListExportJobs(state, limit);
  }
  Result<std::vector<std::string>> ScanCohort(const ItemScanQuery& q) override {
    ReadLease lease(*this);
    return lease->public_health->ScanCohort(q);
  }

  Status Ping() override {
    CLINSHUB_RETURN_IF_ERROR(BrokenStatus());
    ReadLease lease(*this);
    return RunOnce(*lease->ping);
  }

  Status CheckIntegrity() override {
    ReadLease lease(*this);
    std::vector<std::string> problems;
    for (const char* sql : {"PRAGMA quick_check", "PRAGMA foreign_key_check"}) {
      Result<std::unique_ptr<Statement>> stmt = lease->db->Prepare(sql);
      if (!stmt.ok()) return stmt.take_status();
      while (true) {
        Result<bool> row = (*stmt)->Step();
        if (!row.ok()) return row.take_status();
        if (!*row) break;
        std::string finding = (*stmt)->ColumnText(0);
        if (finding != "ok") problems.push_back(std::string(sql) + ": " + finding);
      }
    }
    if (problems.empty()) return Status::Ok();
    std::vector<Issue> issues;
    for (std::string& p : problems) {
      issues.push_back(Issue{Severity::kFatal, "exception", {}, {}, "sqlite integrity: " + p});
    }
    return Status(ErrorCode::kInternal, std::move(issues));
  }

  StoreStats Stats() const override {
    StoreStats s;
    s.batches_committed = batches_committed_.load();
    s.batches_failed = batches_failed_.load();
    s.transactions = transactions_.load();
    s.syncs = wal_syncs_.load();
    s.pages_written = wal_frames_.load();
    return s;
  }

 private:
  struct PendingCommit {
    WriteBatch batch;
    // Per op (empty if none was prepared): the resource serialised by the caller (Commit).
    std::vector<std::optional<PreparedJson>> prepared;
    std::promise<Result<CommitResult>> done;
    // Set instead of a batch: maintenance work (a purge step) run alone, in its own
    // transaction, on the writer connection.
    sqlite::PurgeStep job;
  };
  using Group = std::vector<std::unique_ptr<PendingCommit>>;

  struct CurrentRow {
    int64_t version = 0;
    bool deleted = false;
    Timestamp last_updated;
  };

  // Everything about a batch's resources that does not depend on the database: serialise
  // them, on the caller's thread, so the single writer thread only fills in the holes. The
  // submitted trees are freed here too (thousands of nodes for a large Bundle).
  static void PrepareOps(PendingCommit& pending) {
    std::vector<WriteOp>& ops = pending.batch.ops;
    for (size_t i = 0; i < ops.size(); ++i) {
      std::optional<PreparedJson> prepared;
      if (auto* put = std::get_if<PutResource>(&ops[i])) {
        prepared = Prepare(put->resource, false, nullptr);
        if (prepared.has_value()) put->resource = fhir::Value();
      } else if (auto* unit = std::get_if<PutUnit>(&ops[i])) {
        // A non-Bundle stays for the writer to refuse, with the message it always gave.
        if (unit->bundle.StringAt("resourceType") == "Bundle") {
          prepared = Prepare(unit->bundle, true, &unit->items);
          if (prepared.has_value()) unit->bundle = fhir::Value();
        }
      }
      if (prepared.has_value()) CompressTail(*prepared);
      if (!prepared.has_value()) continue;
      if (pending.prepared.empty()) pending.prepared.resize(ops.size());
      pending.prepared[i] = std::move(prepared);
    }
  }

  // sqlite3_wal_hook callback: runs on the writer thread after every commit, with the number
  // of frames now in the WAL. Only signals: the checkpoint itself runs on checkpoint_thread_.
  static int WalHook(void* self, sqlite3*, const char*, int frames) {
    static_cast<SqliteStore*>(self)->OnWalCommit(frames);
    return SQLITE_OK;
  }

  void OnWalCommit(int frames) {
    // Frames this commit appended: the WAL's length grew by them, or it restarted from 0.
    wal_frames_.fetch_add(static_cast<uint64_t>(frames > last_wal_frames_ ? frames - last_wal_frames_ : frames),
                          std::memory_order_relaxed);
    last_wal_frames_ = frames;
    if (frames < checkpoint_pages_) return;
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_frames_ = frames;
    }
    checkpoint_cv_.notify_one();
  }

  // Copies WAL frames back into the database file on its own connection, concurrently with
  // the writer (PASSIVE takes no lock the writer or readers wait for). Failures are not
  // fatal: the WAL just grows until a later checkpoint, or the final close, succeeds.
  void CheckpointLoop() {
    std::unique_lock lock(checkpoint_mu_);
    while (true) {
      checkpoint_cv_.wait(lock, [&] { return checkpoint_stopping_ || checkpoint_frames_ > 0; });
      if (checkpoint_stopping_) return;
      const int frames = checkpoint_frames_;
      checkpoint_frames_ = 0;
      lock.unlock();
      const int mode =
          frames >= truncate_pages_ ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE;
      int wal_frames = 0, backfilled = 0;
      const int rc = sqlite3_wal_checkpoint_v2(checkpointer_->raw(), nullptr, mode, &wal_frames,
                                               &backfilled);
      if (rc != SQLITE_OK) checkpoint_failures_.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
    }
  }

  std::unique_ptr<ReadConnection> TakeReader() {
    std::unique_lock lock(read_mu_);
    read_cv_.wait(lock, [&] { return !idle_readers_.empty(); });
    std::unique_ptr<ReadConnection> conn = std::move(idle_readers_.back());
    idle_readers_.pop_back();
    return conn;
  }
  void ReturnReader(std::unique_ptr<ReadConnection> conn) {
    {
      std::lock_guard lock(read_mu_);
      idle_readers_.push_back(std::move(conn));
    }
    read_cv_.notify_one();
  }

  // store::ReadSession: holds one read connection inside one read transaction; the thread's
  // ReadLeases use it while it is open. Every commit of another connection empties a read
  // connection's page cache at its next transaction (WAL mode), and each read answered commits
  // an audit event, so one transaction for a request's lookups instead of one per lookup saves
  // the re-reads, the lock calls and the pool hand-offs of all but the first.
  class Session final : public ReadSession {
   public:
    explicit Session(SqliteStore& store) : store_(store), conn_(store.TakeReader()) {
      // BEGIN (deferred) takes no lock: the snapshot starts at the first read.
      begun_ = RunOnce(*conn_->begin_session).ok();
      t_session_ = this;
    }
    ~Session() override {
      t_session_ = nullptr;
      // A connection returned inside its transaction would serve later borrowers an old
      // snapshot. COMMIT of a read transaction whose statements are all reset does not fail;
      // should it, ROLLBACK ends a transaction whatever is pending (SQLite >= 3.7.11).
      if (begun_ && !RunOnce(*conn_->end_session).ok()) (void)conn_->db->Exec("ROLLBACK");
      store_.ReturnReader(std::move(conn_));
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    SqliteStore& store() const { return store_; }
    ReadConnection* connection() const { return conn_.get(); }

   private:
    SqliteStore& store_;
    std::unique_ptr<ReadConnection> conn_;
    bool begun_ = false;
  };
  static inline thread_local Session* t_session_ = nullptr;

  std::unique_ptr<ReadSession> OpenReadSession() override {
    if (t_session_ != nullptr) return nullptr;  // one per thread: the open one serves
    return std::make_unique<Session>(*this);
  }

  // Borrows a read connection for one call (the thread's open session's, if it has one for
  // this store); waits while all are busy.
  class ReadLease {
   public:
    explicit ReadLease(SqliteStore& store) : store_(store) {
      if (t_session_ != nullptr && &t_session_->store() == &store) {
        session_conn_ = t_session_->connection();
        return;
      }
      conn_ = store_.TakeReader();
    }
    ~ReadLease() {
      if (conn_ != nullptr) store_.ReturnReader(std::move(conn_));
    }
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;
    ReadConnection* operator->() { return session_conn_ != nullptr ? session_conn_ : conn_.get(); }

   private:
    SqliteStore& store_;
    std::unique_ptr<ReadConnection> conn_;    // leased from the pool, or
    ReadConnection* session_conn_ = nullptr;  // the thread's open session's
  };

  // The stored JSON of one Bundle version, on a leased read connection.
  static Result<std::string> ReadBundleJson(ReadLease& lease, const std::string& id,
                                            int64_t version) {
    Statement& v = *lease->version;
    ScopedReset reset(v);
    v.BindText(1, "Bundle");
    v.BindText(2, id);
    v.BindInt64(3, version);
    Result<bool> row = v.Step();
    if (!row.ok()) return row.take_status();
    if (!*row || v.ColumnInt64(2) != 0) {
      return InternalError("sqlite: items of Bundle/" + id + " refer to version " +
                           std::to_string(version) + ", which is not stored");
    }
    const std::string_view stored = v.ColumnBytes(3);
    return DecodeStoredJson(stored.data(), stored.size());
  }

  void WriterLoop() {
    while (true) {
      Group group;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and every queued commit is done
        while (!queue_.empty() && group.size() < max_group_batches_) {
          if (queue_.front()->job && !group.empty()) break;  // a job runs alone
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
          if (group.back()->job) break;
        }
      }
      if (group.back()->job) {
        // Maintenance work commits like any group and is made durable like one.
        Status st = BrokenStatus();
        if (st.ok()) st = group.back()->job(*writer_->db);
        if (!st.ok() && !writer_->db->InAutocommit()) (void)writer_->db->Exec("ROLLBACK");
        std::vector<Result<CommitResult>> results;
        results.push_back(st.ok() ? Result<CommitResult>(CommitResult{})
                                  : Result<CommitResult>(st));
        Finish(std::move(group), std::move(results), /*needs_sync=*/st.ok());
        continue;
      }
      CommitGroup(group);
    }
  }

  // A batch of nothing but audit events: what a read commits before it answers.
  static bool IsReadAudit(const PendingCommit& pending) {
    return std::all_of(pending.batch.ops.begin(), pending.batch.ops.end(),
                       [](const WriteOp& op) { return std::holds_alternative<AppendAudit>(op); });
  }

  // Ok, or why no commit may be attempted: an fsync of the WAL failed earlier, so what the
  // OS holds of it is unknown (it may have dropped dirty pages, and a later fsync may report
  // success over the loss). Like PostgreSQL after a failed fsync, the store stops taking
  // writes; a restart recovers from what is on disk.
  Status BrokenStatus() const {
    if (!broken_.load(std::memory_order_acquire)) return Status::Ok();
    return UnavailableError(
        "sqlite: an fsync of the write-ahead log failed; the store takes no more writes until "
        "the server is restarted");
  }

  // One transaction for every batch in the group, committed without an fsync (the connection
  // runs at synchronous=NORMAL); the syncer thread then makes it durable while this thread
  // applies the next group (Finish).
  void CommitGroup(Group& group) {
    if (Status broken = BrokenStatus(); !broken.ok()) {
      return AbortGroup(group, group.size(), broken);
    }
    Status begun = RunOnce(*writer_->begin);
    if (!begun.ok()) return AbortGroup(group, group.size(), begun);
    std::vector<Result<CommitResult>> results;
    results.reserve(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      Status sp = RunOnce(*writer_->savepoint);
      if (!sp.ok()) return AbortGroup(group, i, sp);
      Result<CommitResult> applied = ApplyBatch(group[i]->batch, group[i]->prepared);
      if (!applied.ok()) {
        if (!IsBatchError(applied.status().code())) {
          return AbortGroup(group, i, applied.status());
        }
        Status undone = RunOnce(*writer_->rollback_to);
        if (!undone.ok()) return AbortGroup(group, i, undone);
      }
      Status released = RunOnce(*writer_->release);
      if (!released.ok()) return AbortGroup(group, i, released);
      results.push_back(std::move(applied));
    }
    Status committed = RunOnce(*writer_->commit);
    if (!committed.ok()) return AbortGroup(group, group.size(), committed);
    transactions_.fetch_add(1);
    // Read audits may answer before the fsync (SqliteOptions::relaxed_read_audit_sync).
    const bool relaxed =
        relax_read_audits_ &&
        std::all_of(group.begin(), group.end(),
                    [](const std::unique_ptr<PendingCommit>& p) { return IsReadAudit(*p); });
    Finish(std::move(group), std::move(results), /*needs_sync=*/!relaxed);
  }

  // Hands a committed group to its callers: at once when it need not wait for an fsync (a
  // NORMAL store, or a relaxed group of read audits, whose fsync the syncer owes within
  // relaxed_sync_flush_ms), otherwise once the syncer has fsynced the WAL past its COMMIT.
  void Finish(Group group, std::vector<Result<CommitResult>> results, bool needs_sync) {
    if (syncing_) {
      std::lock_guard lock(sync_mu_);
      if (needs_sync) {
        awaiting_sync_.push_back(AwaitingSync{std::move(group), std::move(results)});
      } else if (!unsynced_window_open_) {
        unsynced_window_open_ = true;
        unsynced_since_ = std::chrono::steady_clock::now();
      }
      sync_cv_.notify_one();
      if (needs_sync) return;
    }
    Deliver(group, results, Status::Ok());
  }

  // Completes each batch's Commit() with its result, or with `sync_failure` if the fsync that
  // was to make it durable failed (its own error, if it had one, wins).
  void Deliver(Group& group, std::vector<Result<CommitResult>>& results,
               const Status& sync_failure) {
    for (size_t i = 0; i < group.size(); ++i) {
      Result<CommitResult> r = std::move(results[i]);
      if (r.ok() && !sync_failure.ok()) r = sync_failure;
      (r.ok() ? batches_committed_ : batches_failed_).fetch_add(1);
      group[i]->done.set_value(std::move(r));
    }
  }

  // The syncer thread: fsyncs the WAL for every committed group waiting on it (one fsync for
  // all of them, however many transactions they took), and for relaxed read audits once their
  // window closes. Runs concurrently with the writer, which never waits for an fsync itself.
  void SyncLoop() {
    std::unique_lock lock(sync_mu_);
    while (true) {
      if (awaiting_sync_.empty()) {
        if (!unsynced_window_open_) {
          if (sync_stopping_) return;
          sync_cv_.wait(lock);
          continue;
        }
        if (!sync_stopping_ &&
            sync_cv_.wait_until(lock, unsynced_since_ + relaxed_flush_delay_) ==
                std::cv_status::no_timeout) {
          continue;  // woken before the window closed: look again
        }
      }
      std::vector<AwaitingSync> due;
      due.swap(awaiting_sync_);
      // This fsync covers every commit made so far, relaxed ones included.
      unsynced_window_open_ = false;
      lock.unlock();
      const Status synced = SyncWal();
      for (AwaitingSync& a : due) Deliver(a.group, a.results, synced);
      lock.lock();
    }
  }

  // fsyncs the WAL through the writer connection's own file handle (so a VFS sees it as the
  // writer's sync). The writer only appends to the WAL meanwhile, which fsync tolerates.
  Status SyncWal() {
    wal_syncs_.fetch_add(1, std::memory_order_relaxed);
    int rc = SQLITE_ERROR;
    if (wal_file_ != nullptr && wal_file_->pMethods != nullptr) {
      rc = wal_file_->pMethods->xSync(wal_file_, SQLITE_SYNC_NORMAL);
    }
    if (rc == SQLITE_OK) return Status::Ok();
    wal_sync_failures_.fetch_add(1, std::memory_order_relaxed);
    broken_.store(true, std::memory_order_release);
    return UnavailableError("sqlite: fsync of the write-ahead log failed (" +
                            std::string(sqlite3_errstr(rc)) +
                            "); the write may not be durable and the store takes no more "
                            "writes until the server is restarted");
  }

  // The database failed under the group: roll everything back and tell every caller. The
  // batch at `culprit` (if any) gets the cause itself; the others learn that nothing of
  // theirs was written and may retry.
  void AbortGroup(Group& group, size_t culprit, const Status& cause) {
    if (!writer_->db->InAutocommit()) (void)writer_->db->Exec("ROLLBACK");
    for (size_t i = 0; i < group.size(); ++i) {
      batches_failed_.fetch_add(1);
      // No single batch to blame (BEGIN or COMMIT failed): everyone gets the cause.
      if (i == culprit || culprit == group.size()) {
        group[i]->done.set_value(cause);
      } else {
        group[i]->done.set_value(UnavailableError(
            "nothing was written: the shared transaction failed: " + cause.message()));
      }
    }
  }

  Result<CommitResult> ApplyBatch(WriteBatch& batch,
                                  const std::vector<std::optional<PreparedJson>>& prepared) {
    // One instant per batch, read inside the transaction, so all its versions share it.
    const Timestamp now = clock_.Now();
    CommitResult result;
    result.written.reserve(batch.ops.size());
    for (size_t i = 0; i < batch.ops.size(); ++i) {
      WriteOp& op = batch.ops[i];
      const PreparedJson* json =
          i < prepared.size() && prepared[i].has_value() ? &*prepared[i] : nullptr;
      Result<ResourceVersion> written = std::visit(
          [&](auto& o) -> Result<ResourceVersion> {
            using Op = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<Op, PutResource>) return ApplyPut(o, json, now);
            if constexpr (std::is_same_v<Op, DeleteResource>) return ApplyDelete(o, now);
            if constexpr (std::is_same_v<Op, PutUnit>) {
              return ApplyPutUnit(o, json, now, result);
            }
            if constexpr (std::is_same_v<Op, WithdrawUnit>) {
              return ApplyWithdrawUnit(o, now, result);
            }
            if constexpr (std::is_same_v<Op, PutInstitution> ||
                          std::is_same_v<Op, SetReferralState> || std::is_same_v<Op, AppendAudit>) {
              return RecordOp(writer_->records->Apply(o, now));
            }
            if constexpr (std::is_same_v<Op, PutRosterEntry> || std::is_same_v<Op, PutConsent> ||
                          std::is_same_v<Op, RevokeConsent>) {
              return RecordOp(writer_->records->Apply(o));
            }
            if constexpr (kIsPublicHealthOp<Op>) {
              return RecordOp(writer_->public_health->Apply(o, now));
            }
          },
          op);
      if (!written.ok()) return written.take_status();
      result.written.push_back(std::move(*written));
    }
    return result;
  }

  // Ops on the hub's records report an empty entry (store.h, CommitResult).
  static Result<ResourceVersion> RecordOp(Status applied) {
    if (!applied.ok()) return applied;
    return ResourceVersion{};
  }

  // Register, replace or idempotently accept a unit. The Bundle version, the unit row and the
  // item swap all happen inside the caller's savepoint, so they land together or not at all.
  Result<ResourceVersion> ApplyPutUnit(PutUnit& put, const PreparedJson* prepared,
                                       Timestamp now, CommitResult& result) {
    CLINSHUB_RETURN_IF_ERROR(CheckUnitKey(put.key));
    if (prepared == nullptr && put.bundle.StringAt("resourceType") != "Bundle") {
      return MalformedError("a reporting unit must be a Bundle", "Bundle");
    }
    Result<std::optional<UnitRecord>> loaded = LoadUnit(put.key);
    if (!loaded.ok()) return loaded.take_status();
    const std::optional<UnitRecord>& existing = *loaded;
    if (existing.has_value()) {
      CLINSHUB_RETURN_IF_ERROR(CheckSender(*existing, put.institution, "replace"));
      if (existing->status == UnitStatus::kRegistered &&
          existing->content_hash == put.content_hash) {
        result.unit_outcomes.push_back(UnitOutcome::kUnchanged);
        return ResourceVersion{"Bundle", existing->bundle_id, existing->version,
                               existing->last_changed, false, {}};
      }
    }
    const std::string bundle_id = existing.has_value() ? existing->bundle_id : ids_.NewId();
    if (prepared == nullptr) SetId(put.bundle, bundle_id);
    // Create-only for a new unit: a (vanishingly unlikely) id collision with an existing
    // Bundle fails the batch instead of silently continuing someone else's history.
    Result<ResourceVersion> written =
        WriteVersion(ResourceName{"Bundle", bundle_id},
                     existing.has_value() ? std::nullopt : std::optional<int64_t>(0),
                     prepared == nullptr ? &put.bundle : nullptr, prepared, now);
    if (!written.ok()) return written.take_status();
    if (existing.has_value()) {
      CLINSHUB_RETURN_IF_ERROR(DeleteItems(put.key.person_key, bundle_id));
    }
    const HoleValues holes = MakeHoleValues(bundle_id, written->version, written->last_updated);
    for (size_t i = 0; i < put.items.size(); ++i) {
      // The item's place in the stored Bundle, when the caller found it there.
      std::optional<std::pair<size_t, size_t>> span;
      if (prepared != nullptr && i < prepared->item_spans.size() &&
          prepared->item_spans[i].first != std::string::npos) {
        span.emplace(FinalOffset(*prepared, holes, prepared->item_spans[i].first),
                     prepared->item_spans[i].second);
      }
      CLINSHUB_RETURN_IF_ERROR(InsertItem(put.key.person_key, bundle_id, static_cast<int>(i),
                                          put.items[i], span, put.institution,
                                          written->last_updated));
    }
    UnitRecord unit;
    unit.key = put.key;
    unit.bundle_id = bundle_id;
    unit.version = written->version;
    unit.status = UnitStatus::kRegistered;
    unit.institution = put.institution;
    unit.kind = put.kind;
    unit.addressee = put.addressee;
    unit.content_hash = put.content_hash;
    unit.first_registered =
        existing.has_value() ? existing->first_registered : written->last_updated;
    unit.last_changed = written->last_updated;
    CLINSHUB_RETURN_IF_ERROR(UpsertUnit(unit));
    CLINSHUB_RETURN_IF_ERROR(BumpItemsGeneration(put.key.person_key));
    result.unit_outcomes.push_back(existing.has_value() ? UnitOutcome::kReplaced
                                                        : UnitOutcome::kCreated);
    return written;
  }

  Result<ResourceVersion> ApplyWithdrawUnit(const WithdrawUnit& withdraw, Timestamp now,
                                            CommitResult& result) {
    CLINSHUB_RETURN_IF_ERROR(CheckUnitKey(withdraw.key));
    Result<std::optional<UnitRecord>> loaded = LoadUnit(withdraw.key);
    if (!loaded.ok()) return loaded.take_status();
    if (!loaded->has_value()) {
      return NotFoundError(UnitName(withdraw.key) + " is not registered");
    }
    UnitRecord unit = std::move(**loaded);
    CLINSHUB_RETURN_IF_ERROR(CheckSender(unit, withdraw.institution, "withdraw"));
    if (unit.status == UnitStatus::kWithdrawn) {
      return Status::Error(ErrorCode::kGone, "deleted",
                           UnitName(withdraw.key) + " is already withdrawn");
    }
    Result<ResourceVersion> written = ApplyDelete(DeleteResource{"Bundle", unit.bundle_id, {}}, now);
    if (!written.ok()) return written.take_status();
    CLINSHUB_RETURN_IF_ERROR(DeleteItems(unit.key.person_key, unit.bundle_id));
    unit.version = written->version;
    unit.status = UnitStatus::kWithdrawn;
    unit.last_changed = written->last_updated;
    CLINSHUB_RETURN_IF_ERROR(UpsertUnit(unit));
    CLINSHUB_RETURN_IF_ERROR(BumpItemsGeneration(unit.key.person_key));
    result.unit_outcomes.push_back(UnitOutcome::kWithdrawn);
    return written;
  }

  static Status CheckUnitKey(const UnitKey& key) {
    if (key.person_key.empty() || key.system.empty() || key.value.empty()) {
      return MalformedError("a reporting unit needs a person and Bundle.identifier system|value",
                            "Bundle.identifier");
    }
    return Status::Ok();
  }

  // Only the sending institution may change a unit it registered.
  static Status CheckSender(const UnitRecord& unit, const std::string& institution,
                            const char* action) {
    if (unit.institution == institution) return Status::Ok();
    return Status::Error(ErrorCode::kForbidden, "forbidden",
                         "only the sending institution may " + std::string(action) + " " +
                             UnitName(unit.key));
  }

  Result<std::optional<UnitRecord>> LoadUnit(const UnitKey& key) {
    Statement& s = *writer_->select_unit;
    ScopedReset reset(s);
    s.BindText(1, key.person_key);
    s.BindText(2, key.system);
    s.BindText(3, key.value);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) return std::optional<UnitRecord>();
    return std::optional<UnitRecord>(RowToUnit(s));
  }

  Status UpsertUnit(const UnitRecord& u) {
    Statement& s = *writer_->upsert_unit;
    ScopedReset reset(s);
    s.BindText(1, u.key.person_key);
    s.BindText(2, u.key.system);
    s.BindText(3, u.key.value);
    s.BindText(4, u.bundle_id);
    s.BindInt64(5, u.version);
    s.BindInt64(6, static_cast<int64_t>(u.status));
    s.BindText(7, u.institution);
    s.BindText(8, u.kind);
    s.BindText(9, u.addressee);
    s.BindText(10, u.content_hash);
    s.BindInt64(11, ToMicros(u.first_registered));
    s.BindInt64(12, ToMicros(u.last_changed));
    return s.Run();
  }

  Status BumpItemsGeneration(const std::string& person_key) {
    Statement& s = *writer_->bump_generation;
    ScopedReset reset(s);
    s.BindText(1, person_key);
    return s.Run();
  }

  Status DeleteItems(const std::string& person_key, const std::string& bundle_id) {
    Statement& s = *writer_->delete_items;
    ScopedReset reset(s);
    s.BindText(1, person_key);
    s.BindText(2, bundle_id);
    return s.Run();
  }

  // An item is stored as a slice (offset, length) of its unit's stored Bundle JSON when
  // `span` is known, else with its own copy of the JSON.
  Status InsertItem(const std::string& person_key, const std::string& bundle_id, int ordinal,
                    const Item& item, const std::optional<std::pair<size_t, size_t>>& span,
                    const std::string& institution, Timestamp registered) {
    Statement& s = *writer_->insert_item;
    ScopedReset reset(s);
    s.BindText(1, person_key);
    s.BindText(2, bundle_id);
    s.BindInt64(3, ordinal);
    s.BindInt64(4, static_cast<int64_t>(item.kind));
    s.BindText(5, item.resource_type);
    s.BindText(6, item.code_system);
    s.BindText(7, item.code);
    s.BindText(8, item.text);
    if (item.clinical_date.has_value()) {
      s.BindInt64(9, ToMicros(*item.clinical_date));
    } else {
      s.BindNull(9);
    }
    s.BindInt64(10, static_cast<int64_t>(item.flags));
    s.BindText(11, institution);
    s.BindInt64(12, ToMicros(registered));
    if (span.has_value()) {
      s.BindText(13, "");
      s.BindInt64(14, static_cast<int64_t>(span->first));
      s.BindInt64(15, static_cast<int64_t>(span->second));
    } else {
      s.BindText(13, item.json);
      s.BindNull(14);
      s.BindNull(15);
    }
    return s.Run();
  }

  Result<ResourceVersion> ApplyPut(PutResource& put, const PreparedJson* prepared,
                                   Timestamp now) {
    if (prepared != nullptr) {
      return WriteVersion(ResourceName{prepared->type, prepared->id}, put.if_version, nullptr,
                          prepared, now);
    }
    Result<ResourceName> name = NameOf(put.resource);
    if (!name.ok()) return name.take_status();
    return WriteVersion(std::move(*name), put.if_version, &put.resource, nullptr, now);
  }

  // The next version of `name`: from the prepared JSON if there is one, else by stamping and
  // serialising `resource` here.
  Result<ResourceVersion> WriteVersion(ResourceName name, std::optional<int64_t> if_version,
                                       fhir::Value* resource, const PreparedJson* prepared,
                                       Timestamp now) {
    Result<std::optional<CurrentRow>> current = LoadCurrent(name.type, name.id);
    if (!current.ok()) return current.take_status();
    const std::optional<CurrentRow>& cur = *current;
    if (if_version.has_value()) {
      const int64_t expected = *if_version;
      if (expected == 0 && cur.has_value()) {
        return PreconditionFailed(Name(name.type, name.id) + " already exists (version " +
                                  std::to_string(cur->version) + ")");
      }
      if (expected != 0 && (!cur.has_value() || cur->deleted || cur->version != expected)) {
        return PreconditionFailed(VersionMismatch(name.type, name.id, expected, cur));
      }
    }
    ResourceVersion v;
    v.type = std::move(name.type);
    v.id = std::move(name.id);
    v.version = cur.has_value() ? cur->version + 1 : 1;
    v.last_updated = NextLastUpdated(
        now, cur.has_value() ? std::optional(cur->last_updated) : std::nullopt);
    if (prepared != nullptr) {
      CLINSHUB_RETURN_IF_ERROR(
          Insert(v, StoredContent(*prepared, MakeHoleValues(v.id, v.version, v.last_updated))));
      return v;
    }
    CLINSHUB_RETURN_IF_ERROR(StampMeta(*resource, v.version, v.last_updated));
    CLINSHUB_RETURN_IF_ERROR(Insert(v, CompressJson(fhir::WriteJson(*resource))));
    return v;
  }

  Result<ResourceVersion> ApplyDelete(const DeleteResource& del, Timestamp now) {
    Result<std::optional<CurrentRow>> current = LoadCurrent(del.type, del.id);
    if (!current.ok()) return current.take_status();
    const std::optional<CurrentRow>& cur = *current;
    if (!cur.has_value()) return NotFoundError(Name(del.type, del.id) + " not found");
    if (del.if_version.has_value() && (cur->deleted || cur->version != *del.if_version)) {
      return PreconditionFailed(VersionMismatch(del.type, del.id, *del.if_version, cur));
    }
    ResourceVersion v;
    v.type = del.type;
    v.id = del.id;
    v.deleted = true;
    if (cur->deleted) {
      v.version = cur->version;
      v.last_updated = cur->last_updated;
      return v;
    }
    v.version = cur->version + 1;
    v.last_updated = NextLastUpdated(now, cur->last_updated);
    CLINSHUB_RETURN_IF_ERROR(Insert(v, std::nullopt));
    return v;
  }

  static std::string VersionMismatch(const std::string& type, const std::string& id,
                                     int64_t expected, const std::optional<CurrentRow>& cur) {
    std::string found = !cur.has_value() ? "it does not exist"
                        : cur->deleted   ? "it was deleted at version " +
                                             std::to_string(cur->version)
                                         : "the current version is " +
                                             std::to_string(cur->version);
    return Name(type, id) + ": expected version " + std::to_string(expected) + " but " + found;
  }

  Result<std::optional<CurrentRow>> LoadCurrent(const std::string& type, const std::string& id) {
    Statement& s = *writer_->select_current;
    ScopedReset reset(s);
    s.BindText(1, type);
    s.BindText(2, id);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) return std::optional<CurrentRow>();
    return std::optional<CurrentRow>(
        CurrentRow{s.ColumnInt64(0), s.ColumnInt64(1) != 0, FromMicros(s.ColumnInt64(2))});
  }

  // Writes the version and points resource_current at it (same transaction). `content` is
  // what resource_version.content holds: compressed JSON (json_codec.h), none for a delete.
  Status Insert(const ResourceVersion& v, const std::optional<std::string>& content) {
    {
      Statement& s = *writer_->insert_version;
      ScopedReset reset(s);
      s.BindText(1, v.type);
      s.BindText(2, v.id);
      s.BindInt64(3, v.version);
      s.BindInt64(4, ToMicros(v.last_updated));
      s.BindInt64(5, v.deleted ? 1 : 0);
      if (content.has_value()) {
        s.BindBlob(6, *content);
      } else {
        s.BindNull(6);
      }
      CLINSHUB_RETURN_IF_ERROR(s.Run());
    }
    Statement& s = *writer_->upsert_current;
    ScopedReset reset(s);
    s.BindText(1, v.type);
    s.BindText(2, v.id);
    s.BindInt64(3, v.version);
    s.BindInt64(4, v.deleted ? 1 : 0);
    s.BindInt64(5, ToMicros(v.last_updated));
    return s.Run();
  }

  const Clock& clock_;
  const std::unique_ptr<IdGenerator> owned_ids_;  // set only when options.ids was null
  IdGenerator& ids_;
  const size_t max_group_batches_;
  const int checkpoint_pages_;
  const int truncate_pages_;
  const bool relax_read_audits_;
  const std::chrono::steady_clock::duration relaxed_flush_delay_;
  // FULL stores: commits answer after the syncer's fsync. NORMAL stores never fsync the WAL
  // (SQLite does at checkpoints).
  const bool syncing_;
  std::atomic<uint64_t> wal_syncs_{0};
  std::atomic<uint64_t> wal_frames_{0};  // pages appended to the WAL by commits
  int last_wal_frames_ = 0;              // writer thread: the WAL's length after the last commit
  std::atomic<uint64_t> wal_sync_failures_{0};
  std::atomic<bool> broken_{false};  // an fsync failed: no more writes (BrokenStatus)
  const std::unique_ptr<WriteConnection> writer_;  // touched only by writer_thread_

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<ReadConnection>> idle_readers_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<PendingCommit>> queue_;
  bool stopping_ = false;

  std::atomic<uint64_t> batches_committed_{0};
  std::atomic<uint64_t> batches_failed_{0};
  std::atomic<uint64_t> transactions_{0};

  // Committed groups waiting for the syncer's fsync, and relaxed commits not yet fsynced
  // (unsynced_window_open_ since unsynced_since_). The WAL's file handle is the writer
  // connection's, looked up once at open.
  struct AwaitingSync {
    Group group;
    std::vector<Result<CommitResult>> results;
  };
  sqlite3_file* wal_file_ = nullptr;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<AwaitingSync> awaiting_sync_;
  bool unsynced_window_open_ = false;
  std::chrono::steady_clock::time_point unsynced_since_;
  bool sync_stopping_ = false;
  std::thread sync_thread_;

  // The checkpointer's connection (touched only by checkpoint_thread_; closed before the
  // writer's, so the writer's close is the last and checkpoints the rest) and its signal.
  const std::unique_ptr<Connection> checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  int checkpoint_frames_ = 0;  // > 0: WAL size reported by the last commit past the threshold
  bool checkpoint_stopping_ = false;
  std::atomic<uint64_t> checkpoint_failures_{0};  // busy or I/O; retried on the next signal
  std::thread checkpoint_thread_;

  // Declared last: it starts in the constructor and uses every member above.
  std::thread writer_thread_;
};

}  // namespace

std::string SqliteDatabaseFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return (std::filesystem::path(path) / kDatabaseFileName).string();
  }
  return path;
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options,
                                               const Clock& clock) {
  if (options.path.empty()) return MalformedError("SqliteOptions.path is empty");
  if (options.read_connections < 1 || options.max_group_batches < 1 ||
      options.checkpoint_pages < 1 || options.truncate_pages < options.checkpoint_pages ||
      options.relaxed_sync_flush_ms < 0) {
    return MalformedError(
        "SqliteOptions: read_connections, max_group_batches and checkpoint_pages must be >= 1,"
        " truncate_pages >= checkpoint_pages, relaxed_sync_flush_ms >= 0");
  }
  const std::string file = SqliteDatabaseFile(options.path);
  // The writer opens first: it creates the file, switches it to WAL and migrates, all of
  // which the read connections rely on.
  Result<std::unique_ptr<WriteConnection>> writer = WriteConnection::Open(file, options, clock);
  if (!writer.ok()) return writer.take_status();
  std::vector<std::unique_ptr<ReadConnection>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    Result<std::unique_ptr<ReadConnection>> reader =
        ReadConnection::Open(file, options);
    if (!reader.ok()) return reader.take_status();
    readers.push_back(std::move(*reader));
  }
  Result<std::unique_ptr<Connection>> checkpointer =
      Connection::Open(file, false, options.busy_timeout_ms);
  if (!checkpointer.ok()) return checkpointer.take_status();
  // A connection only attaches to the WAL when it first reads; until then
  // sqlite3_wal_checkpoint_v2 on it returns SQLITE_OK having copied nothing, and the WAL grows
  // without bound (2 GB after 22 k submissions, found by watching the files during a bench).
  Result<std::string> mode = (*checkpointer)->QueryText("PRAGMA journal_mode");
  if (!mode.ok()) return mode.take_status();
  if (*mode != "wal") return InternalError("sqlite: the checkpointer sees journal_mode " + *mode);
  return std::unique_ptr<Store>(new SqliteStore(options, clock, std::move(*writer),
                                                std::move(readers), std::move(*checkpointer)));
}

}  // namespace clinshub::store

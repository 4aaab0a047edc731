#include "store/sqlite/schema.h"

#include <string>

namespace clinshub::store::sqlite {

namespace {

// Version 1: resource versions.
//
// resource_version holds every version ever written, immutable once inserted. It keeps a
// rowid (the default) because rows carry whole resources of several KB: in a WITHOUT ROWID
// table they would bloat the primary-key b-tree that every lookup walks.
//
// resource_current maps (type, id) to the latest version, written in the same transaction as
// the version itself, so "read the current version" is one O(log n) primary-key probe plus one
// probe into resource_version, never a max() over the history. It is small per row, hence
// WITHOUT ROWID (the key is the table).
//
// Times are microseconds since the Unix epoch (UTC) as INTEGER, so they sort and compare
// without parsing.
//
// Room for later migrations, each its own version: reporting units and the per-person items
// extracted from them, consent, audit. Those tables lead with person_key, the key the
// PostgreSQL-protocol backends shard by, so that a person's rows live together.
constexpr const char* kResourceVersions = R"sql(
CREATE TABLE resource_version (
  type         TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  version      INTEGER NOT NULL CHECK (version > 0),
  last_updated INTEGER NOT NULL,
  deleted      INTEGER NOT NULL CHECK (deleted IN (0, 1)),
  content      TEXT    CHECK ((deleted = 1) = (content IS NULL)),
  PRIMARY KEY (type, id, version)
);
CREATE TABLE resource_current (
  type         TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  deleted      INTEGER NOT NULL CHECK (deleted IN (0, 1)),
  last_updated INTEGER NOT NULL,
  PRIMARY KEY (type, id),
  FOREIGN KEY (type, id, version) REFERENCES resource_version (type, id, version)
) WITHOUT ROWID;
)sql";

// Version 2: reporting units and their per-person items.
//
// unit is the state of each reporting unit, keyed as the service keys it: (person, Bundle
// identifier). Its Bundle lives in resource_version like any resource (bundle_id, version).
// unit_identifier serves DELETE /Bundle?identifier= (caller knows no person); unit_addressee
// serves the referral inbox ("letters addressed to me"): both cross persons by design, the
// only cross-person access paths. unit_bundle makes a Bundle belong to one unit and joins
// items back to their unit.
//
// item holds the current items of each registered unit, replaced wholesale with the unit.
// WITHOUT ROWID clusters a unit's items on the primary key; item_summary makes a person's
// summary ("all conditions, newest first") one range scan. status: 1 registered, 2 withdrawn
// (UnitStatus); kind: ItemKind; flags: ItemFlag bits; dates: µs since epoch, NULL if unknown.
constexpr const char* kReportingUnits = R"sql(
CREATE TABLE unit (
  person_key       TEXT    NOT NULL,
  id_system        TEXT    NOT NULL,
  id_value         TEXT    NOT NULL,
  bundle_id        TEXT    NOT NULL,
  version          INTEGER NOT NULL CHECK (version > 0),
  status           INTEGER NOT NULL CHECK (status IN (1, 2)),
  institution      TEXT    NOT NULL,
  kind             TEXT    NOT NULL,
  addressee        TEXT    NOT NULL,
  content_hash     TEXT    NOT NULL,
  first_registered INTEGER NOT NULL,
  last_changed     INTEGER NOT NULL,
  PRIMARY KEY (person_key, id_system, id_value)
);
CREATE INDEX unit_identifier ON unit (id_system, id_value);
CREATE INDEX unit_addressee ON unit (addressee, status);
CREATE UNIQUE INDEX unit_bundle ON unit (person_key, bundle_id);
CREATE TABLE item (
  person_key    TEXT    NOT NULL,
  bundle_id     TEXT    NOT NULL,
  ordinal       INTEGER NOT NULL,
  kind          INTEGER NOT NULL,
  resource_type TEXT    NOT NULL,
  code_system   TEXT    NOT NULL,
  code          TEXT    NOT NULL,
  text          TEXT    NOT NULL,
  clinical_date INTEGER,
  flags         INTEGER NOT NULL,
  institution   TEXT    NOT NULL,
  registered    INTEGER NOT NULL,
  json          TEXT    NOT NULL,
  PRIMARY KEY (person_key, bundle_id, ordinal)
) WITHOUT ROWID;
CREATE INDEX item_summary ON item (person_key, kind, clinical_date);
)sql";

// Version 3: the hub's own records (store/records.h).
//
// institution (the directory) and roster (identifier → person) are the cross-person lookup
// tables; *_norm columns hold NormaliseForSearch forms so kana/width-insensitive search is an
// index range or a scan of ~100k short rows. consent, referral_consent and audit lead with
// person_key like the clinical tables. consent_id, referral_inbox, audit_actor and
// unit_bundle_id are the deliberate cross-person indexes (consent by id, the addressee's inbox,
// audit by institution, a Bundle read by its logical id).
// audit.seq is the chain order; the chain itself is in prev_hash/hash (store/audit.h).
constexpr const char* kHubRecords = R"sql(
CREATE TABLE institution (
  code        TEXT    PRIMARY KEY,
  name        TEXT    NOT NULL,
  kana        TEXT    NOT NULL,
  address     TEXT    NOT NULL,
  postcode    TEXT    NOT NULL,
  phone       TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  emergency   INTEGER NOT NULL CHECK (emergency IN (0, 1)),
  active      INTEGER NOT NULL CHECK (active IN (0, 1)),
  updated     INTEGER NOT NULL,
  name_norm   TEXT    NOT NULL,
  kana_norm   TEXT    NOT NULL,
  address_norm TEXT   NOT NULL,
  postcode_digits TEXT NOT NULL,
  phone_digits TEXT   NOT NULL
) WITHOUT ROWID;
CREATE INDEX institution_name ON institution (name_norm);
CREATE INDEX institution_kana ON institution (kana_norm);
CREATE INDEX institution_postcode ON institution (postcode_digits);
CREATE INDEX institution_phone ON institution (phone_digits);
CREATE TABLE roster (
  id_system   TEXT NOT NULL,
  id_value    TEXT NOT NULL,
  person_key  TEXT NOT NULL,
  valid_from  TEXT NOT NULL,
  valid_to    TEXT NOT NULL,
  PRIMARY KEY (id_system, id_value)
) WITHOUT ROWID;
CREATE INDEX roster_person ON roster (person_key, valid_from);
CREATE TABLE consent (
  person_key  TEXT    NOT NULL,
  consent_id  TEXT    NOT NULL,
  institution TEXT    NOT NULL,
  method      TEXT    NOT NULL,
  granted     INTEGER NOT NULL,
  expires     INTEGER NOT NULL,
  revoked     INTEGER,
  PRIMARY KEY (person_key, consent_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX consent_id ON consent (consent_id);
CREATE TABLE referral_consent (
  person_key  TEXT    NOT NULL,
  id_system   TEXT    NOT NULL,
  id_value    TEXT    NOT NULL,
  recipient   TEXT    NOT NULL,
  state       INTEGER NOT NULL CHECK (state IN (1, 2, 3)),
  set_by      TEXT    NOT NULL,
  updated     INTEGER NOT NULL,
  retrieved   INTEGER,
  PRIMARY KEY (person_key, id_system, id_value, recipient),
  FOREIGN KEY (person_key, id_system, id_value) REFERENCES unit (person_key, id_system, id_value)
) WITHOUT ROWID;
CREATE INDEX referral_inbox ON referral_consent (recipient, updated);
CREATE TABLE audit (
  seq         INTEGER PRIMARY KEY,
  time        INTEGER NOT NULL,
  actor_kind  TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  purpose     TEXT    NOT NULL,
  action      TEXT    NOT NULL,
  person_key  TEXT    NOT NULL,
  target      TEXT    NOT NULL,
  items       TEXT    NOT NULL,
  hidden_items TEXT   NOT NULL,
  outcome     TEXT    NOT NULL,
  http_status INTEGER NOT NULL,
  rule        TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  prev_hash   TEXT    NOT NULL,
  hash        TEXT    NOT NULL
);
CREATE INDEX audit_person ON audit (person_key, time);
CREATE INDEX unit_bundle_id ON unit (bundle_id);
CREATE INDEX audit_actor ON audit (actor, time);
)sql";

// Version 4: public health (store/public_health.h).
//
// notification leads with person_key like every table holding patient data; notification_id
// finds one by its hub id (the status query and the outbox). outbox is keyed by notification
// id; outbox_due makes "what is due now" one range scan of queued rows. export_job holds the
// minister's export requests (no patient data). states: DeliveryState, ExportState.
constexpr const char* kPublicHealth = R"sql(
CREATE TABLE notification (
  person_key    TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  institution   TEXT    NOT NULL,
  identifier    TEXT    NOT NULL,
  disease_code  TEXT    NOT NULL,
  content_hash  TEXT    NOT NULL,
  bundle        TEXT    NOT NULL,
  submitted     INTEGER NOT NULL,
  PRIMARY KEY (person_key, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX notification_id ON notification (id);
CREATE TABLE outbox (
  notification_id TEXT    PRIMARY KEY,
  person_key      TEXT    NOT NULL,
  institution     TEXT    NOT NULL,
  state           INTEGER NOT NULL CHECK (state IN (1, 2, 3)),
  attempts        INTEGER NOT NULL,
  next_attempt    INTEGER NOT NULL,
  last_error      TEXT    NOT NULL,
  created         INTEGER NOT NULL,
  updated         INTEGER NOT NULL,
  delivered       INTEGER
) WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (state, next_attempt);
CREATE TABLE export_job (
  id            TEXT    PRIMARY KEY,
  requester     TEXT    NOT NULL,
  approver      TEXT    NOT NULL,
  state         INTEGER NOT NULL CHECK (state BETWEEN 1 AND 6),
  request       TEXT    NOT NULL,
  progress      INTEGER NOT NULL,
  manifest      TEXT    NOT NULL,
  error         TEXT    NOT NULL,
  created       INTEGER NOT NULL,
  updated       INTEGER NOT NULL,
  expires       INTEGER
) WITHOUT ROWID;
CREATE INDEX export_job_state ON export_job (state, created);
)sql";

// Version 5: drop secondary indexes no read uses; every unit and item insert paid for them on
// the single writer thread (index B-tree descents were ~8 % of ingest CPU).
// - unit_addressee: the referral inbox reads referral_consent (referral_inbox), never unit by
//   addressee.
// - item_summary: a person's summary reads all their items (WHERE person_key = ?) through the
//   item primary key (person_key, bundle_id, ordinal) and sorts those few dozen rows; the
//   index only saved that small sort. Retention and the export scan walk the primary key.
constexpr const char* kDropUnusedIndexes = R"sql(
DROP INDEX IF EXISTS unit_addressee;
DROP INDEX IF EXISTS item_summary;
)sql";

// Version 6: an item's JSON is a slice of its unit's stored Bundle (json_at, json_len: byte
// offset and length in the Bundle version's JSON) instead of a second copy in item.json,
// which is then ''. The copies were ~0.5x of the submitted JSON on disk and, at ~2.4 KB each,
// spilled into an overflow page apiece, so every submission wrote ~6 more pages (issue 7).
// Rows written before keep their own JSON (json_at NULL) and read as before.
// person_generation counts changes to a person's current items (Store::ItemsGeneration):
// bumped in the transaction of every unit op and purge that adds or removes items, so readers
// may keep what they derived from the items (the summary's item cache) until it moves.
constexpr const char* kItemSlices = R"sql(
ALTER TABLE item ADD COLUMN json_at INTEGER;
ALTER TABLE item ADD COLUMN json_len INTEGER;
CREATE TABLE person_generation (
  person_key  TEXT    PRIMARY KEY,
  generation  INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 7: drop unit_bundle (person_key, bundle_id). Every new unit paid for a random leaf
// of it on the single writer (issue 7: ~8 random leaves per unit are most of ingest's page
// writes), and it answers nothing unit_bundle_id (bundle_id) does not: a Bundle's logical id
// is the hub's own random 128-bit id (ids.h), unique by construction, and the join of items
// back to their unit finds the unit by bundle_id and checks person_key. The PostgreSQL schema
// keeps its copy: a distributed table's unique index must include the distribution column.
constexpr const char* kDropUnitBundle = R"sql(
DROP INDEX IF EXISTS unit_bundle;
)sql";

constexpr Migration kMigrations[] = {
    {1, "resource versions and current-version index", kResourceVersions},
    {2, "reporting units and their per-person items", kReportingUnits},
    {3, "institution directory, roster, consent, referral consent, audit", kHubRecords},
    {4, "public health: notifications, their outbox, export jobs", kPublicHealth},
    {5, "drop the unread indexes unit_addressee and item_summary", kDropUnusedIndexes},
    {6, "items as slices of their unit's stored Bundle; per-person item generation",
     kItemSlices},
    {7, "drop unit_bundle: unit_bundle_id finds a unit by its Bundle", kDropUnitBundle},
};

constexpr const char* kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL
)
)sql";

Status MigrateInTransaction(Connection& db, const Clock& clock) {
  CLINSHUB_RETURN_IF_ERROR(db.Exec(kCreateMigrationsTable));
  Result<std::string> current_text =
      db.QueryText("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current_text.ok()) return current_text.take_status();
  const int64_t current = std::stoll(*current_text);
  if (current > LatestSchemaVersion()) {
    return InternalError("store schema version " + std::to_string(current) +
                         " is newer than this build knows (" +
                         std::to_string(LatestSchemaVersion()) +
                         "); refusing to open it with an older binary");
  }
  Result<std::unique_ptr<Statement>> record = db.Prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
  if (!record.ok()) return record.take_status();
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    CLINSHUB_RETURN_IF_ERROR(db.Exec(m.sql));
    Statement& s = **record;
    ScopedReset reset(s);
    s.BindInt64(1, m.version);
    s.BindText(2, m.name);
    s.BindInt64(3, clock.Now().time_since_epoch().count());
    CLINSHUB_RETURN_IF_ERROR(s.Run());
  }
  return Status::Ok();
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int64_t LatestSchemaVersion() { return std::end(kMigrations)[-1].version; }

Status Migrate(Connection& db, const Clock& clock) {
  // IMMEDIATE takes the write lock up front, so two processes opening the same new file
  // cannot both decide to apply migration 1.
  CLINSHUB_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status st = MigrateInTransaction(db, clock);
  if (!st.ok()) {
    if (!db.InAutocommit()) (void)db.Exec("ROLLBACK");
    return st;
  }
  st = db.Exec("COMMIT");
  if (!st.ok() && !db.InAutocommit()) (void)db.Exec("ROLLBACK");
  return st;
}

}  // namespace clinshub::store::sqlite

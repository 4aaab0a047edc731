#include "store/postgres/pg_schema.h"

#include <string>

namespace clinshub::store::postgres {

namespace {

// Version 1: resource versions (as in SQLite: see src/store/sqlite/schema.cc).
//
// Keys are COLLATE "C": byte order, the same order SQLite uses, independent of the database's
// locale, and the cheapest comparison for b-tree keys. Times are µs since the Unix epoch.
// content is TEXT, not jsonb: the stored JSON is served byte for byte as it was stamped.
//
// These two tables are keyed by (type, id), not by person: a FHIR read names no person. Under
// Citus they are distributed by id (docs/scaling.md); the per-person tables below lead with
// person_key.
constexpr const char* kResourceVersions = R"sql(
CREATE TABLE resource_version (
  type         TEXT COLLATE "C" NOT NULL,
  id           TEXT COLLATE "C" NOT NULL,
  version      BIGINT  NOT NULL CHECK (version > 0),
  last_updated BIGINT  NOT NULL,
  deleted      BOOLEAN NOT NULL,
  content      TEXT    CHECK (deleted = (content IS NULL)),
  PRIMARY KEY (type, id, version)
);
CREATE TABLE resource_current (
  type         TEXT COLLATE "C" NOT NULL,
  id           TEXT COLLATE "C" NOT NULL,
  version      BIGINT  NOT NULL,
  deleted      BOOLEAN NOT NULL,
  last_updated BIGINT  NOT NULL,
  PRIMARY KEY (type, id),
  FOREIGN KEY (type, id, version) REFERENCES resource_version (type, id, version)
);
)sql";

// Version 2: reporting units and their per-person items (as in SQLite). person_key leads every
// key: `create_distributed_table('unit', 'person_key')` and the same for item co-locate a
// person's units and items on one shard. unit_identifier, unit_addressee and unit_bundle_id
// are the cross-person access paths (DELETE /Bundle?identifier=, the referral inbox, a Bundle
// read by its logical id; SQLite adds unit_bundle_id in its version 3).
constexpr const char* kReportingUnits = R"sql(
CREATE TABLE unit (
  person_key       TEXT COLLATE "C" NOT NULL,
  id_system        TEXT COLLATE "C" NOT NULL,
  id_value         TEXT COLLATE "C" NOT NULL,
  bundle_id        TEXT COLLATE "C" NOT NULL,
  version          BIGINT   NOT NULL CHECK (version > 0),
  status           SMALLINT NOT NULL CHECK (status IN (1, 2)),
  institution      TEXT COLLATE "C" NOT NULL,
  kind             TEXT     NOT NULL,
  addressee        TEXT COLLATE "C" NOT NULL,
  content_hash     TEXT     NOT NULL,
  first_registered BIGINT   NOT NULL,
  last_changed     BIGINT   NOT NULL,
  PRIMARY KEY (person_key, id_system, id_value)
);
CREATE INDEX unit_identifier ON unit (id_system, id_value);
CREATE INDEX unit_addressee ON unit (addressee, status);
CREATE UNIQUE INDEX unit_bundle ON unit (person_key, bundle_id);
CREATE INDEX unit_bundle_id ON unit (bundle_id);
CREATE TABLE item (
  person_key    TEXT COLLATE "C" NOT NULL,
  bundle_id     TEXT COLLATE "C" NOT NULL,
  ordinal       INTEGER  NOT NULL,
  kind          SMALLINT NOT NULL,
  resource_type TEXT     NOT NULL,
  code_system   TEXT     NOT NULL,
  code          TEXT     NOT NULL,
  text          TEXT     NOT NULL,
  clinical_date BIGINT,
  flags         BIGINT   NOT NULL,
  institution   TEXT COLLATE "C" NOT NULL,
  registered    BIGINT   NOT NULL,
  json          TEXT     NOT NULL,
  PRIMARY KEY (person_key, bundle_id, ordinal)
);
CREATE INDEX item_summary ON item (person_key, kind, clinical_date DESC NULLS LAST);
)sql";

// Version 3: the hub's records (as in SQLite's version 3; see store/records.h). institution and
// roster are the cross-person lookup tables (a reference table and a table distributed by
// id_value under Citus: docs/scaling.md); the *_norm and *_digits columns hold the
// NormaliseForSearch forms the store computes (the same C++ as SQLite's), so kana- and
// width-insensitive search is a LIKE on plain columns; COLLATE "C" makes a prefix LIKE an index
// range whatever the database's locale.
// consent, referral_consent and audit lead with person_key like the clinical tables;
// consent_id, referral_inbox, audit_actor and audit_seq are the deliberate cross-person
// indexes. audit.seq is the chain order (one global chain per database: the store serialises
// appends under an advisory lock); the chain itself is prev_hash/hash (store/audit.h).
constexpr const char* kHubRecords = R"sql(
CREATE TABLE institution (
  code            TEXT COLLATE "C" PRIMARY KEY,
  name            TEXT    NOT NULL,
  kana            TEXT    NOT NULL,
  address         TEXT    NOT NULL,
  postcode        TEXT    NOT NULL,
  phone           TEXT    NOT NULL,
  kind            TEXT    NOT NULL,
  emergency       BOOLEAN NOT NULL,
  active          BOOLEAN NOT NULL,
  updated         BIGINT  NOT NULL,
  name_norm       TEXT COLLATE "C" NOT NULL,
  kana_norm       TEXT COLLATE "C" NOT NULL,
  address_norm    TEXT COLLATE "C" NOT NULL,
  postcode_digits TEXT COLLATE "C" NOT NULL,
  phone_digits    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX institution_name ON institution (name_norm);
CREATE INDEX institution_kana ON institution (kana_norm);
CREATE INDEX institution_postcode ON institution (postcode_digits);
CREATE INDEX institution_phone ON institution (phone_digits);
CREATE TABLE roster (
  id_system   TEXT COLLATE "C" NOT NULL,
  id_value    TEXT COLLATE "C" NOT NULL,
  person_key  TEXT COLLATE "C" NOT NULL,
  valid_from  TEXT COLLATE "C" NOT NULL,
  valid_to    TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (id_system, id_value)
);
CREATE INDEX roster_person ON roster (person_key, valid_from);
CREATE TABLE consent (
  person_key  TEXT COLLATE "C" NOT NULL,
  consent_id  TEXT COLLATE "C" NOT NULL,
  institution TEXT COLLATE "C" NOT NULL,
  method      TEXT   NOT NULL,
  granted     BIGINT NOT NULL,
  expires     BIGINT NOT NULL,
  revoked     BIGINT,
  PRIMARY KEY (person_key, consent_id)
);
CREATE UNIQUE INDEX consent_id ON consent (consent_id);
CREATE TABLE referral_consent (
  person_key  TEXT COLLATE "C" NOT NULL,
  id_system   TEXT COLLATE "C" NOT NULL,
  id_value    TEXT COLLATE "C" NOT NULL,
  recipient   TEXT COLLATE "C" NOT NULL,
  state       SMALLINT NOT NULL CHECK (state IN (1, 2, 3)),
  set_by      TEXT     NOT NULL,
  updated     BIGINT   NOT NULL,
  retrieved   BIGINT,
  PRIMARY KEY (person_key, id_system, id_value, recipient),
  FOREIGN KEY (person_key, id_system, id_value) REFERENCES unit (person_key, id_system, id_value)
);
CREATE INDEX referral_inbox ON referral_consent (recipient, updated);
CREATE TABLE audit (
  person_key   TEXT COLLATE "C" NOT NULL,
  seq          BIGINT NOT NULL,
  time         BIGINT NOT NULL,
  actor_kind   TEXT   NOT NULL,
  actor        TEXT COLLATE "C" NOT NULL,
  purpose      TEXT   NOT NULL,
  action       TEXT   NOT NULL,
  target       TEXT   NOT NULL,
  items        TEXT   NOT NULL,
  hidden_items TEXT   NOT NULL,
  outcome      TEXT   NOT NULL,
  http_status  INTEGER NOT NULL,
  rule         TEXT   NOT NULL,
  reason       TEXT   NOT NULL,
  prev_hash    TEXT   NOT NULL,
  hash         TEXT   NOT NULL,
  PRIMARY KEY (person_key, seq)
);
CREATE UNIQUE INDEX audit_seq ON audit (seq);
CREATE INDEX audit_person ON audit (person_key, time);
CREATE INDEX audit_actor ON audit (actor, time);
)sql";

// Version 4: public health (as in SQLite's version 4; see store/public_health.h).
//
// notification holds patient data and leads with person_key like the clinical tables (under
// Citus: distributed by person_key, co-located with unit). Its unique index on id serves
// ReadNotification (the status query names only the hub id); like consent_id it becomes a plain
// index when distributed (the hub issues the ids), and a read by id alone then fans out — rare
// (an institution polling one notification's status), so acceptable until measured otherwise.
// outbox and export_job are the cross-person operator tables, on purpose: the delivery worker
// asks "what is due now" across every person, and an export job names no person at all. Both
// are small (one row per notification / per export), so they stay on the coordinator (Citus
// local tables); writing a notification therefore touches the person's shard and the outbox
// (2PC per notification, a few hundred a day nationally). outbox carries person_key only to
// route the notification it delivers.
// outbox_due is partial: delivered and failed rows accumulate for ever, the due scan reads only
// queued ones, in its ORDER BY order.
constexpr const char* kPublicHealth = R"sql(
CREATE TABLE notification (
  person_key    TEXT COLLATE "C" NOT NULL,
  id            TEXT COLLATE "C" NOT NULL,
  institution   TEXT COLLATE "C" NOT NULL,
  identifier    TEXT   NOT NULL,
  disease_code  TEXT   NOT NULL,
  content_hash  TEXT   NOT NULL,
  bundle        TEXT   NOT NULL,
  submitted     BIGINT NOT NULL,
  PRIMARY KEY (person_key, id)
);
CREATE UNIQUE INDEX notification_id ON notification (id);
CREATE TABLE outbox (
  notification_id TEXT COLLATE "C" PRIMARY KEY,
  person_key      TEXT COLLATE "C" NOT NULL,
  institution     TEXT COLLATE "C" NOT NULL,
  state           SMALLINT NOT NULL CHECK (state IN (1, 2, 3)),
  attempts        INTEGER  NOT NULL,
  next_attempt    BIGINT   NOT NULL,
  last_error      TEXT     NOT NULL,
  created         BIGINT   NOT NULL,
  updated         BIGINT   NOT NULL,
  delivered       BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt, notification_id) WHERE state = 1;
CREATE TABLE export_job (
  id            TEXT COLLATE "C" PRIMARY KEY,
  requester     TEXT     NOT NULL,
  approver      TEXT     NOT NULL,
  state         SMALLINT NOT NULL CHECK (state BETWEEN 1 AND 6),
  request       TEXT     NOT NULL,
  progress      INTEGER  NOT NULL,
  manifest      TEXT     NOT NULL,
  error         TEXT     NOT NULL,
  created       BIGINT   NOT NULL,
  updated       BIGINT   NOT NULL,
  expires       BIGINT
);
CREATE INDEX export_job_state ON export_job (state, created, id);
)sql";

// Version 5: person_generation counts changes to a person's current items
// (Store::ItemsGeneration): bumped in the transaction of every unit op and purge that adds or
// removes items, so readers may keep what they derived from the items until it moves.
// Keyed by person like every per-person table.
constexpr const char* kPersonGeneration = R"sql(
CREATE TABLE person_generation (
  person_key  TEXT COLLATE "C" PRIMARY KEY,
  generation  BIGINT NOT NULL
);
)sql";

constexpr Migration kMigrations[] = {
    {1, "resource versions and current-version index", kResourceVersions},
    {2, "reporting units and their per-person items", kReportingUnits},
    {3, "institution directory, roster, consent, referral consent, audit", kHubRecords},
    {4, "public health: notifications, their outbox, export jobs", kPublicHealth},
    {5, "per-person item generation", kPersonGeneration},
};

constexpr const char* kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    BIGINT PRIMARY KEY,
  name       TEXT   NOT NULL,
  applied_at BIGINT NOT NULL
)
)sql";

// Any constant shared by every clinshub process: serialises concurrent migrators.
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(7247150312)";

Status MigrateInTransaction(PgConnection& db, const Clock& clock) {
  CLINSHUB_RETURN_IF_ERROR(db.Exec(kLock));
  CLINSHUB_RETURN_IF_ERROR(db.Exec(kCreateMigrationsTable));
  Result<Rows> current_rows = db.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current_rows.ok()) return current_rows.take_status();
  const int64_t current = current_rows->Int64(0, 0);
  if (current > LatestSchemaVersion()) {
    return InternalError("store schema version " + std::to_string(current) +
                         " is newer than this build knows (" +
                         std::to_string(LatestSchemaVersion()) +
                         "); refusing to open it with an older binary");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    CLINSHUB_RETURN_IF_ERROR(db.Exec(m.sql));
    Result<Rows> recorded = db.Query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        Params().Int64(m.version).Text(m.name).Int64(clock.Now().time_since_epoch().count()));
    if (!recorded.ok()) return recorded.take_status();
  }
  return Status::Ok();
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int64_t LatestSchemaVersion() { return std::end(kMigrations)[-1].version; }

Status Migrate(PgConnection& db, const Clock& clock) {
  // DDL is transactional in PostgreSQL: a failed migration leaves the previous version intact.
  CLINSHUB_RETURN_IF_ERROR(db.Exec("BEGIN"));
  Status st = MigrateInTransaction(db, clock);
  if (!st.ok()) {
    if (db.Healthy()) (void)db.Exec("ROLLBACK");
    return st;
  }
  return db.Exec("COMMIT");
}

}  // namespace clinshub::store::postgres

#include "store/postgres/pg_purge.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "clins/items.h"
#include "store/retention_cutoffs.h"
#include "store/postgres/pg_records.h"
#include "store/postgres/pg_schema.h"

namespace clinshub::store::postgres {
namespace {

using Cutoffs = RetentionCutoffs;

// "This item row expired", with the cutoffs of item kinds 1..6 in parameters $first..$first+5
// and the same for LTS-flagged items (flags bit 4) in $first+6..$first+11 (AppendItemCutoffs).
// Unknown kinds never expire (ELSE 0: no registration is at or before the epoch). The casts
// matter: without them the CASE would resolve to integer (from the literal 0) and overflow.
std::string ItemExpired(int first, const std::string& alias = "") {
  auto param = [&](int offset) {
    std::string p(1, '$');  // not "$" + …: GCC 12 warns falsely on that (-Wrestrict, PR 105651)
    return p.append(std::to_string(first + offset)).append("::bigint");
  };
  std::string lts, plain;
  for (int k = 1; k <= 6; ++k) {
    plain += " WHEN " + std::to_string(k) + " THEN " + param(k - 1);
    lts += " WHEN " + std::to_string(k) + " THEN " + param(5 + k);
  }
  return alias + "registered <= CASE WHEN (" + alias + "flags & 4) <> 0 THEN CASE " + alias +
         "kind" + lts + " ELSE 0 END ELSE CASE " + alias + "kind" + plain + " ELSE 0 END END";
}

void AppendItemCutoffs(Params& p, const Cutoffs& c) {
  for (int k = 1; k <= 6; ++k) p.Int64(c.item[k]);
  for (int k = 1; k <= 6; ++k) p.Int64(c.item_lts[k]);
}

bool Bool(const Rows& r, int row, int col) { return r.Text(row, col) == "t"; }

enum class Phase { kItems, kUnits, kConsents, kDone };

struct PurgeState {
  Cutoffs cut;
  bool dry_run = false;
  PurgeWindows windows;
  Phase phase = Phase::kItems;
  // Keyset cursor: the primary key of the last row examined in the current phase.
  std::string k1, k2, k3;
  int64_t k_ordinal = -1;
  PurgeReport report;
  std::set<std::string> persons;
};

// The single count a `WITH d AS (DELETE … RETURNING 1) SELECT COUNT(*) FROM d` returns.
Result<int64_t> CountOf(Result<Rows> r) {
  if (!r.ok()) return r.take_status();
  return r->size() == 0 ? 0 : r->Int64(0, 0);
}

// Moves the item generation of the persons in `persons` (one text column) on.
Status BumpGenerations(PgConnection& db, RowBuffer& persons) {
  if (persons.rows() == 0) return Status::Ok();
  Result<Rows> bumped = db.Query(kBumpItemsGenerationsSql, persons.ToParams());
  return bumped.ok() ? Status::Ok() : bumped.status();
}

// ---- 1. item rows past their own period ---------------------------------------------------

Status ItemsWindow(PgConnection& db, PurgeState& st) {
  Params window;
  AppendItemCutoffs(window, st.cut);
  window.Text(st.k1).Text(st.k2).Int64(st.k_ordinal).Int64(st.windows.items);
  Result<Rows> rows = db.Query(
      "SELECT person_key, bundle_id, ordinal, " + ItemExpired(1) +
          " FROM item WHERE (person_key, bundle_id, ordinal) > ($13::text, $14::text,"
          " $15::integer) ORDER BY person_key, bundle_id, ordinal LIMIT $16",
      window);
  if (!rows.ok()) return rows.take_status();
  RowBuffer expired(3);
  for (int i = 0; i < rows->size(); ++i) {
    if (!Bool(*rows, i, 3)) continue;
    if (st.dry_run) {
      ++st.report.items;
      st.persons.insert(rows->Text(i, 0));
    } else {
      expired.Text(rows->Text(i, 0)).Text(rows->Text(i, 1)).Int64(rows->Int64(i, 2));
    }
  }
  if (rows->size() > 0) {
    const int last = rows->size() - 1;
    st.k1 = rows->Text(last, 0);
    st.k2 = rows->Text(last, 1);
    st.k_ordinal = rows->Int64(last, 2);
  }
  if (expired.rows() > 0) {
    Params del = expired.ToParams();
    AppendItemCutoffs(del, st.cut);
    Result<Rows> deleted = db.Query(
        "DELETE FROM item WHERE (person_key, bundle_id, ordinal) IN"
        " (SELECT * FROM unnest($1::text[], $2::text[], $3::integer[])) AND " +
            ItemExpired(4) + " RETURNING person_key",
        del);
    if (!deleted.ok()) return deleted.take_status();
    st.report.items += deleted->size();
    RowBuffer changed(1);
    for (int i = 0; i < deleted->size(); ++i) {
      st.persons.insert(deleted->Text(i, 0));
      changed.Text(deleted->Text(i, 0));
    }
    CLINSHUB_RETURN_IF_ERROR(BumpGenerations(db, changed));
  }
  if (rows->size() < st.windows.items) {
    st.phase = Phase::kUnits;
    st.k1.clear();
    st.k2.clear();
    st.k3.clear();
  }
  return Status::Ok();
}

// ---- 2. units: expired ones whole, superseded versions of the others ---------------------

struct UnitRow {
  std::string person, system, value, bundle_id, kind;
  int status = 0;
  int64_t last_changed = 0;
  // Gathered by UnitFacts.
  int64_t recipients = 0, retrieved = 0, last_retrieved = 0;
  int64_t live_items = 0, versions = 0, superseded = 0;
};

// Per unit of the window: its referral recipients, items not expired, Bundle versions, and
// versions below the newest one older than the buffer (each of them was superseded, by its
// successor, at or before the cutoff; never the current version).
Status UnitFacts(PgConnection& db, const PurgeState& st, std::vector<UnitRow>& units) {
  RowBuffer keys(4);
  for (const UnitRow& u : units) keys.Text(u.person).Text(u.system).Text(u.value).Text(u.bundle_id);
  Params p = keys.ToParams();
  AppendItemCutoffs(p, st.cut);  // $5..$16
  p.Int64(st.cut.superseded);    // $17
  Result<Rows> facts = db.Query(
      "SELECT r.recipients, r.retrieved, COALESCE(r.last_retrieved, 0),"
      " (SELECT COUNT(*) FROM item i WHERE i.person_key = w.p AND i.bundle_id = w.b"
      "  AND NOT (" + ItemExpired(5, "i.") + ")),"
      " (SELECT COUNT(*) FROM resource_version v WHERE v.type = 'Bundle' AND v.id = w.b),"
      " (SELECT COUNT(*) FROM resource_version v WHERE v.type = 'Bundle' AND v.id = w.b"
      "  AND v.version < (SELECT MAX(m.version) FROM resource_version m"
      "  WHERE m.type = 'Bundle' AND m.id = w.b AND m.last_updated <= $17::bigint))"
      " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY"
      " AS w(p, s, v, b, n)"
      " CROSS JOIN LATERAL (SELECT COUNT(*) AS recipients, COUNT(retrieved) AS retrieved,"
      "  MAX(retrieved) AS last_retrieved FROM referral_consent r"
      "  WHERE r.person_key = w.p AND r.id_system = w.s AND r.id_value = w.v) r"
      " ORDER BY w.n",
      p);
  if (!facts.ok()) return facts.take_status();
  if (facts->size() != static_cast<int>(units.size())) {
    return InternalError("postgres purge: unit facts do not match the window");
  }
  for (int i = 0; i < facts->size(); ++i) {
    UnitRow& u = units[static_cast<size_t>(i)];
    u.recipients = facts->Int64(i, 0);
    u.retrieved = facts->Int64(i, 1);
    u.last_retrieved = facts->Int64(i, 2);
    u.live_items = facts->Int64(i, 3);
    u.versions = facts->Int64(i, 4);
    u.superseded = facts->Int64(i, 5);
  }
  return Status::Ok();
}

// Whether the unit expired as a whole (the rules: sqlite/purge_sqlite.h).
bool UnitExpired(const UnitRow& u, const Cutoffs& cut) {
  if (u.status == static_cast<int>(UnitStatus::kWithdrawn)) {
    return u.last_changed <= cut.superseded;
  }
  if (u.kind == "checkup") return u.last_changed <= cut.checkup;
  if (u.kind == "discharge-summary") return u.last_changed <= cut.discharge;
  if (u.kind == "referral") {
    const bool unretrieved_over = u.last_changed <= cut.referral_unretrieved;
    if (u.retrieved == 0) return unretrieved_over;
    const bool retrieval_over = u.last_retrieved <= cut.referral_retrieved;
    if (u.retrieved == u.recipients) return retrieval_over;
    return retrieval_over && unretrieved_over;  // some recipient has not retrieved it yet
  }
  if (u.last_changed > cut.unit_min_item) return false;
  return u.live_items == 0;
}

// Deletes everything the expired units own, child rows first (resource_current references
// resource_version, referral_consent references unit). Their rows are locked by the window.
Status RemoveUnits(PgConnection& db, const std::vector<const UnitRow*>& units, PurgeState& st) {
  RowBuffer bundles(1), items(2), keys(3);
  for (const UnitRow* u : units) {
    bundles.Text(u->bundle_id);
    items.Text(u->person).Text(u->bundle_id);
    keys.Text(u->person).Text(u->system).Text(u->value);
  }
  Result<Rows> current =
      db.Query("DELETE FROM resource_current WHERE type = 'Bundle' AND id = ANY($1::text[])",
               bundles.ToParams());
  if (!current.ok()) return current.take_status();
  Result<int64_t> versions = CountOf(db.Query(
      "WITH d AS (DELETE FROM resource_version WHERE type = 'Bundle' AND id = ANY($1::text[])"
      " RETURNING 1) SELECT COUNT(*) FROM d",
      bundles.ToParams()));
  if (!versions.ok()) return versions.take_status();
  Result<Rows> deleted_items = db.Query(
      "DELETE FROM item WHERE (person_key, bundle_id) IN"
      " (SELECT * FROM unnest($1::text[], $2::text[])) RETURNING person_key",
      items.ToParams());
  if (!deleted_items.ok()) return deleted_items.take_status();
  RowBuffer changed(1);
  for (int i = 0; i < deleted_items->size(); ++i) changed.Text(deleted_items->Text(i, 0));
  CLINSHUB_RETURN_IF_ERROR(BumpGenerations(db, changed));
  Result<int64_t> item_rows = static_cast<int64_t>(deleted_items->size());
  Result<int64_t> referrals = CountOf(db.Query(
      "WITH d AS (DELETE FROM referral_consent WHERE (person_key, id_system, id_value) IN"
      " (SELECT * FROM unnest($1::text[], $2::text[], $3::text[])) RETURNING 1)"
      " SELECT COUNT(*) FROM d",
      keys.ToParams()));
  if (!referrals.ok()) return referrals.take_status();
  Result<Rows> gone = db.Query(
      "DELETE FROM unit WHERE (person_key, id_system, id_value) IN"
      " (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))",
      keys.ToParams());
  if (!gone.ok()) return gone.take_status();
  st.report.units += static_cast<int64_t>(units.size());
  st.report.bundle_versions += *versions;
  st.report.items += *item_rows;
  st.report.referral_recipients += *referrals;
  for (const UnitRow* u : units) st.persons.insert(u->person);
  return Status::Ok();
}

Status PurgeSuperseded(PgConnection& db, const std::vector<const UnitRow*>& units,
                       PurgeState& st) {
  RowBuffer bundles(1);
  std::map<std::string, const std::string*> person_of;
  for (const UnitRow* u : units) {
    bundles.Text(u->bundle_id);
    person_of[u->bundle_id] = &u->person;
  }
  Params p = bundles.ToParams();
  p.Int64(st.cut.superseded);
  Result<Rows> deleted = db.Query(
      "WITH d AS (DELETE FROM resource_version v USING unnest($1::text[]) AS b(id)"
      " WHERE v.type = 'Bundle' AND v.id = b.id AND v.version < (SELECT MAX(m.version)"
      " FROM resource_version m WHERE m.type = 'Bundle' AND m.id = b.id"
      " AND m.last_updated <= $2::bigint) RETURNING v.id)"
      " SELECT id, COUNT(*) FROM d GROUP BY id",
      p);
  if (!deleted.ok()) return deleted.take_status();
  for (int i = 0; i < deleted->size(); ++i) {
    st.report.bundle_versions += deleted->Int64(i, 1);
    auto person = person_of.find(deleted->Text(i, 0));
    if (person != person_of.end()) st.persons.insert(*person->second);
  }
  return Status::Ok();
}

Status UnitsWindow(PgConnection& db, PurgeState& st) {
  // FOR UPDATE (real runs): a writer replacing, withdrawing or re-registering one of these
  // units waits for this window's COMMIT, so what we decide from the facts below still holds
  // when we delete. Rows are locked in primary-key order, as writers lock theirs (sorted).
  Result<Rows> rows = db.Query(
      std::string("SELECT person_key, id_system, id_value, bundle_id, status, kind, last_changed"
                  " FROM unit WHERE (person_key, id_system, id_value) > ($1::text, $2::text,"
                  " $3::text) ORDER BY person_key, id_system, id_value LIMIT $4") +
          (st.dry_run ? "" : " FOR UPDATE"),
      Params().Text(st.k1).Text(st.k2).Text(st.k3).Int64(st.windows.units));
  if (!rows.ok()) return rows.take_status();
  std::vector<UnitRow> units;
  units.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    UnitRow u;
    u.person = rows->Text(i, 0);
    u.system = rows->Text(i, 1);
    u.value = rows->Text(i, 2);
    u.bundle_id = rows->Text(i, 3);
    u.status = static_cast<int>(rows->Int64(i, 4));
    u.kind = rows->Text(i, 5);
    u.last_changed = rows->Int64(i, 6);
    units.push_back(std::move(u));
  }
  if (!units.empty()) CLINSHUB_RETURN_IF_ERROR(UnitFacts(db, st, units));
  std::vector<const UnitRow*> expired, superseded;
  for (const UnitRow& u : units) {
    if (UnitExpired(u, st.cut)) {
      expired.push_back(&u);
    } else if (u.superseded > 0) {
      superseded.push_back(&u);
    }
  }
  if (st.dry_run) {
    // Expired items were counted by the item phase; live_items are the rest.
    for (const UnitRow* u : expired) {
      st.report.units += 1;
      st.report.items += u->live_items;
      st.report.bundle_versions += u->versions;
      st.report.referral_recipients += u->recipients;
      st.persons.insert(u->person);
    }
    for (const UnitRow* u : superseded) {
      st.report.bundle_versions += u->superseded;
      st.persons.insert(u->person);
    }
  } else {
    if (!expired.empty()) CLINSHUB_RETURN_IF_ERROR(RemoveUnits(db, expired, st));
    if (!superseded.empty()) CLINSHUB_RETURN_IF_ERROR(PurgeSuperseded(db, superseded, st));
  }
  if (!units.empty()) {
    st.k1 = units.back().person;
    st.k2 = units.back().system;
    st.k3 = units.back().value;
  }
  if (static_cast<int>(units.size()) < st.windows.units) {
    st.phase = Phase::kConsents;
    st.k1.clear();
    st.k2.clear();
  }
  return Status::Ok();
}

// ---- 3. consents expired or revoked longer ago than the buffer ---------------------------

Status ConsentsWindow(PgConnection& db, PurgeState& st) {
  constexpr const char* kExpired = "(expires <= $1 OR (revoked IS NOT NULL AND revoked <= $1))";
  Result<Rows> rows = db.Query(
      std::string("SELECT person_key, consent_id, ") + kExpired +
          " FROM consent WHERE (person_key, consent_id) > ($2::text, $3::text)"
          " ORDER BY person_key, consent_id LIMIT $4",
      Params().Int64(st.cut.consent).Text(st.k1).Text(st.k2).Int64(st.windows.consents));
  if (!rows.ok()) return rows.take_status();
  RowBuffer expired(2);
  for (int i = 0; i < rows->size(); ++i) {
    if (!Bool(*rows, i, 2)) continue;
    if (st.dry_run) {
      ++st.report.consents;
      st.persons.insert(rows->Text(i, 0));
    } else {
      expired.Text(rows->Text(i, 0)).Text(rows->Text(i, 1));
    }
  }
  if (rows->size() > 0) {
    st.k1 = rows->Text(rows->size() - 1, 0);
    st.k2 = rows->Text(rows->size() - 1, 1);
  }
  if (expired.rows() > 0) {
    Params del = expired.ToParams();
    del.Int64(st.cut.consent);
    // Re-checked on the row deleted: the window's view was not locked.
    Result<Rows> deleted = db.Query(
        "DELETE FROM consent WHERE (person_key, consent_id) IN"
        " (SELECT * FROM unnest($1::text[], $2::text[]))"
        " AND (expires <= $3 OR revoked <= $3) RETURNING person_key",
        del);
    if (!deleted.ok()) return deleted.take_status();
    st.report.consents += deleted->size();
    for (int i = 0; i < deleted->size(); ++i) st.persons.insert(deleted->Text(i, 0));
  }
  if (rows->size() < st.windows.consents) st.phase = Phase::kDone;
  return Status::Ok();
}

// One transaction: BEGIN, one window of the current phase, COMMIT (the runner rolls back on
// error). A dry run is READ ONLY: the server itself guarantees it changes nothing.
Status Step(PgConnection& db, PurgeState& st) {
  CLINSHUB_RETURN_IF_ERROR(db.Exec(st.dry_run ? "BEGIN READ ONLY" : "BEGIN"));
  switch (st.phase) {
    case Phase::kItems: CLINSHUB_RETURN_IF_ERROR(ItemsWindow(db, st)); break;
    case Phase::kUnits: CLINSHUB_RETURN_IF_ERROR(UnitsWindow(db, st)); break;
    case Phase::kConsents: CLINSHUB_RETURN_IF_ERROR(ConsentsWindow(db, st)); break;
    case Phase::kDone: break;
  }
  return db.Exec("COMMIT");
}

}  // namespace

Result<PurgeReport> PurgeExpired(const RetentionPolicy& policy, Timestamp now, bool dry_run,
                                 const RunOnWriter& run, PurgeWindows windows) {
  PurgeState st;
  st.cut = ComputeRetentionCutoffs(policy, now);
  st.dry_run = dry_run;
  st.windows = windows;
  while (st.phase != Phase::kDone) {
    // A failed step rolled back its own window only: the windows committed before it stay
    // purged and the next purge finds the rest.
    Status stepped = run([&st](PgConnection& db) { return Step(db, st); });
    if (!stepped.ok()) return stepped;
  }
  st.report.persons = static_cast<int64_t>(st.persons.size());
  return st.report;
}

}  // namespace clinshub::store::postgres

#include "store/sqlite/purge_sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "clins/items.h"
#include "store/retention_cutoffs.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/schema.h"

namespace clinshub::store::sqlite {
namespace {

using Cutoffs = RetentionCutoffs;

// "This item row expired", for statements whose parameters ?1..?6 are the cutoffs of item
// kinds 1..6 and ?7..?12 the same for LTS-flagged items (flags bit 4). Unknown kinds never
// expire (ELSE 0: no registration is at or before the epoch).
constexpr const char* kItemExpired =
    "registered <= CASE WHEN (flags & 4) <> 0"
    " THEN CASE kind WHEN 1 THEN ?7 WHEN 2 THEN ?8 WHEN 3 THEN ?9"
    " WHEN 4 THEN ?10 WHEN 5 THEN ?11 WHEN 6 THEN ?12 ELSE 0 END"
    " ELSE CASE kind WHEN 1 THEN ?1 WHEN 2 THEN ?2 WHEN 3 THEN ?3"
    " WHEN 4 THEN ?4 WHEN 5 THEN ?5 WHEN 6 THEN ?6 ELSE 0 END END";

void BindItemCutoffs(Statement& s, const Cutoffs& c) {
  for (int k = 1; k <= 6; ++k) {
    s.BindInt64(k, c.item[k]);
    s.BindInt64(6 + k, c.item_lts[k]);
  }
}

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
  // Persons whose current items this step's transaction removed: their item generation moves
  // on before it commits (store.h ItemsGeneration).
  std::set<std::string> items_changed;
};

Result<std::unique_ptr<Statement>> Prep(Connection& db, const std::string& sql) {
  return db.Prepare(sql);
}

#define CLINSHUB_PREP(var, db, sql)                                  \
  Result<std::unique_ptr<Statement>> var##_r = Prep(db, sql);        \
  if (!var##_r.ok()) return var##_r.take_status();                   \
  Statement& var = **var##_r

Result<int64_t> QueryCount(Statement& s) {
  Result<bool> row = s.Step();
  if (!row.ok()) return row.take_status();
  return *row ? s.ColumnInt64(0) : 0;
}

// Runs a prepared, bound DELETE; the number of rows it deleted.
Result<int64_t> RunDelete(Connection& db, Statement& s) {
  Status st = s.Run();
  if (!st.ok()) return st;
  return static_cast<int64_t>(sqlite3_changes(db.raw()));
}

// ---- 1. item rows past their own period ---------------------------------------------------

Status ItemsWindow(Connection& db, PurgeState& st) {
  CLINSHUB_PREP(window, db,
                std::string("SELECT person_key, bundle_id, ordinal, ") + kItemExpired +
                    " FROM item WHERE (person_key, bundle_id, ordinal) > (?13, ?14, ?15)"
                    " ORDER BY person_key, bundle_id, ordinal LIMIT ?16");
  CLINSHUB_PREP(del, db,
                "DELETE FROM item WHERE person_key = ?1 AND bundle_id = ?2 AND ordinal = ?3");
  struct Key {
    std::string person, bundle;
    int64_t ordinal;
  };
  std::vector<Key> expired;
  int examined = 0;
  {
    ScopedReset reset(window);
    BindItemCutoffs(window, st.cut);
    window.BindText(13, st.k1);
    window.BindText(14, st.k2);
    window.BindInt64(15, st.k_ordinal);
    window.BindInt64(16, st.windows.items);
    while (true) {
      Result<bool> row = window.Step();
      if (!row.ok()) return row.take_status();
      if (!*row) break;
      ++examined;
      st.k1 = window.ColumnText(0);
      st.k2 = window.ColumnText(1);
      st.k_ordinal = window.ColumnInt64(2);
      if (window.ColumnInt64(3) != 0) expired.push_back({st.k1, st.k2, st.k_ordinal});
    }
  }
  for (const Key& k : expired) {
    if (!st.dry_run) {
      ScopedReset reset(del);
      del.BindText(1, k.person);
      del.BindText(2, k.bundle);
      del.BindInt64(3, k.ordinal);
      Result<int64_t> n = RunDelete(db, del);
      if (!n.ok()) return n.take_status();
      if (*n == 0) continue;  // gone meanwhile (cannot happen inside one transaction)
    }
    ++st.report.items;
    st.persons.insert(k.person);
    if (!st.dry_run) st.items_changed.insert(k.person);
  }
  if (examined < st.windows.items) {
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
  int64_t version = 0;
  int status = 0;
  int64_t last_changed = 0;
};

struct UnitStatements {
  std::unique_ptr<Statement> live_items, referral, versions_count, superseded_count,
      delete_current, delete_versions, delete_items, delete_referrals, delete_unit,
      delete_superseded;
};

Status PrepareUnitStatements(Connection& db, UnitStatements& u) {
  struct Spec {
    std::unique_ptr<Statement>* slot;
    std::string sql;
  };
  // Versions below the newest one that is older than the buffer: each of them was superseded
  // (by its successor) at or before the cutoff. Never the current version.
  const std::string superseded =
      " FROM resource_version WHERE type = 'Bundle' AND id = ?1 AND version <"
      " (SELECT MAX(version) FROM resource_version"
      " WHERE type = 'Bundle' AND id = ?1 AND last_updated <= ?2)";
  const Spec specs[] = {
      {&u.live_items, std::string("SELECT COUNT(*) FROM item WHERE person_key = ?13 AND"
                                  " bundle_id = ?14 AND NOT (") + kItemExpired + ")"},
      {&u.referral,
       "SELECT COUNT(*), COUNT(retrieved), MAX(retrieved) FROM referral_consent"
       " WHERE person_key = ?1 AND id_system = ?2 AND id_value = ?3"},
      {&u.versions_count, "SELECT COUNT(*) FROM resource_version WHERE type = 'Bundle' AND id = ?1"},
      {&u.superseded_count, "SELECT COUNT(*)" + superseded},
      {&u.delete_current, "DELETE FROM resource_current WHERE type = 'Bundle' AND id = ?1"},
      {&u.delete_versions, "DELETE FROM resource_version WHERE type = 'Bundle' AND id = ?1"},
      {&u.delete_items, "DELETE FROM item WHERE person_key = ?1 AND bundle_id = ?2"},
      {&u.delete_referrals,
       "DELETE FROM referral_consent WHERE person_key = ?1 AND id_system = ?2 AND id_value = ?3"},
      {&u.delete_unit,
       "DELETE FROM unit WHERE person_key = ?1 AND id_system = ?2 AND id_value = ?3"},
      {&u.delete_superseded, "DELETE" + superseded},
  };
  for (const Spec& s : specs) {
    Result<std::unique_ptr<Statement>> p = db.Prepare(s.sql);
    if (!p.ok()) return p.take_status();
    *s.slot = std::move(*p);
  }
  return Status::Ok();
}

// Whether the unit expired as a whole (see purge_sqlite.h for the rules).
Result<bool> UnitExpired(const UnitRow& u, const Cutoffs& cut, UnitStatements& q) {
  if (u.status == static_cast<int>(UnitStatus::kWithdrawn)) {
    return u.last_changed <= cut.superseded;
  }
  if (u.kind == "checkup") return u.last_changed <= cut.checkup;
  if (u.kind == "discharge-summary") return u.last_changed <= cut.discharge;
  if (u.kind == "referral") {
    Statement& s = *q.referral;
    ScopedReset reset(s);
    s.BindText(1, u.person);
    s.BindText(2, u.system);
    s.BindText(3, u.value);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    const int64_t recipients = s.ColumnInt64(0);
    const int64_t retrieved = s.ColumnInt64(1);
    const bool unretrieved_over = u.last_changed <= cut.referral_unretrieved;
    if (retrieved == 0) return unretrieved_over;
    const bool retrieval_over = s.ColumnInt64(2) <= cut.referral_retrieved;
    if (retrieved == recipients) return retrieval_over;
    return retrieval_over && unretrieved_over;  // some recipient has not retrieved it yet
  }
  if (u.last_changed > cut.unit_min_item) return false;
  Statement& s = *q.live_items;
  ScopedReset reset(s);
  BindItemCutoffs(s, cut);
  s.BindText(13, u.person);
  s.BindText(14, u.bundle_id);
  Result<int64_t> live = QueryCount(s);
  if (!live.ok()) return live.take_status();
  return *live == 0;
}

// Counts (dry run) or deletes everything the unit owns. Child rows first: resource_current
// references resource_version and referral_consent references unit (foreign keys are on).
Status RemoveUnit(Connection& db, const UnitRow& u, PurgeState& st, UnitStatements& q) {
  auto bind_bundle = [&](Statement& s) { s.BindText(1, u.bundle_id); };
  auto bind_unit = [&](Statement& s) {
    s.BindText(1, u.person);
    s.BindText(2, u.system);
    s.BindText(3, u.value);
  };
  int64_t items = 0, versions = 0, referrals = 0;
  if (st.dry_run) {
    {
      // Expired items were counted by the item phase; these are the rest.
      Statement& s = *q.live_items;
      ScopedReset reset(s);
      BindItemCutoffs(s, st.cut);
      s.BindText(13, u.person);
      s.BindText(14, u.bundle_id);
      Result<int64_t> n = QueryCount(s);
      if (!n.ok()) return n.take_status();
      items = *n;
    }
    {
      Statement& s = *q.versions_count;
      ScopedReset reset(s);
      bind_bundle(s);
      Result<int64_t> n = QueryCount(s);
      if (!n.ok()) return n.take_status();
      versions = *n;
    }
    {
      Statement& s = *q.referral;
      ScopedReset reset(s);
      bind_unit(s);
      Result<int64_t> n = QueryCount(s);
      if (!n.ok()) return n.take_status();
      referrals = *n;
    }
  } else {
    auto run = [&](Statement& s, auto bind) -> Result<int64_t> {
      ScopedReset reset(s);
      bind(s);
      return RunDelete(db, s);
    };
    Result<int64_t> n = run(*q.delete_current, bind_bundle);
    if (!n.ok()) return n.take_status();
    n = run(*q.delete_versions, bind_bundle);
    if (!n.ok()) return n.take_status();
    versions = *n;
    n = run(*q.delete_items, [&](Statement& s) {
      s.BindText(1, u.person);
      s.BindText(2, u.bundle_id);
    });
    if (!n.ok()) return n.take_status();
    items = *n;
    n = run(*q.delete_referrals, bind_unit);
    if (!n.ok()) return n.take_status();
    referrals = *n;
    n = run(*q.delete_unit, bind_unit);
    if (!n.ok()) return n.take_status();
  }
  st.report.units += 1;
  st.report.items += items;
  st.report.bundle_versions += versions;
  st.report.referral_recipients += referrals;
  st.persons.insert(u.person);
  if (!st.dry_run && items > 0) st.items_changed.insert(u.person);
  return Status::Ok();
}

Status PurgeSuperseded(Connection& db, const UnitRow& u, PurgeState& st, UnitStatements& q) {
  Statement& s = st.dry_run ? *q.superseded_count : *q.delete_superseded;
  ScopedReset reset(s);
  s.BindText(1, u.bundle_id);
  s.BindInt64(2, st.cut.superseded);
  Result<int64_t> n = st.dry_run ? QueryCount(s) : RunDelete(db, s);
  if (!n.ok()) return n.take_status();
  if (*n > 0) {
    st.report.bundle_versions += *n;
    st.persons.insert(u.person);
  }
  return Status::Ok();
}

Status UnitsWindow(Connection& db, PurgeState& st) {
  CLINSHUB_PREP(window, db,
                "SELECT person_key, id_system, id_value, bundle_id, version, status, kind,"
                " last_changed FROM unit WHERE (person_key, id_system, id_value) > (?1, ?2, ?3)"
                " ORDER BY person_key, id_system, id_value LIMIT ?4");
  std::vector<UnitRow> units;
  {
    ScopedReset reset(window);
    window.BindText(1, st.k1);
    window.BindText(2, st.k2);
    window.BindText(3, st.k3);
    window.BindInt64(4, st.windows.units);
    while (true) {
      Result<bool> row = window.Step();
      if (!row.ok()) return row.take_status();
      if (!*row) break;
      UnitRow u;
      u.person = window.ColumnText(0);
      u.system = window.ColumnText(1);
      u.value = window.ColumnText(2);
      u.bundle_id = window.ColumnText(3);
      u.version = window.ColumnInt64(4);
      u.status = static_cast<int>(window.ColumnInt64(5));
      u.kind = window.ColumnText(6);
      u.last_changed = window.ColumnInt64(7);
      units.push_back(std::move(u));
    }
  }
  UnitStatements q;
  CLINSHUB_RETURN_IF_ERROR(PrepareUnitStatements(db, q));
  for (const UnitRow& u : units) {
    Result<bool> expired = UnitExpired(u, st.cut, q);
    if (!expired.ok()) return expired.take_status();
    CLINSHUB_RETURN_IF_ERROR(*expired ? RemoveUnit(db, u, st, q) : PurgeSuperseded(db, u, st, q));
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

Status ConsentsWindow(Connection& db, PurgeState& st) {
  CLINSHUB_PREP(window, db,
                "SELECT person_key, consent_id,"
                " (expires <= ?1 OR (revoked IS NOT NULL AND revoked <= ?1))"
                " FROM consent WHERE (person_key, consent_id) > (?2, ?3)"
                " ORDER BY person_key, consent_id LIMIT ?4");
  CLINSHUB_PREP(del, db, "DELETE FROM consent WHERE person_key = ?1 AND consent_id = ?2");
  std::vector<std::pair<std::string, std::string>> expired;
  int examined = 0;
  {
    ScopedReset reset(window);
    window.BindInt64(1, st.cut.consent);
    window.BindText(2, st.k1);
    window.BindText(3, st.k2);
    window.BindInt64(4, st.windows.consents);
    while (true) {
      Result<bool> row = window.Step();
      if (!row.ok()) return row.take_status();
      if (!*row) break;
      ++examined;
      st.k1 = window.ColumnText(0);
      st.k2 = window.ColumnText(1);
      if (window.ColumnInt64(2) != 0) expired.emplace_back(st.k1, st.k2);
    }
  }
  for (const auto& [person, id] : expired) {
    if (!st.dry_run) {
      ScopedReset reset(del);
      del.BindText(1, person);
      del.BindText(2, id);
      Result<int64_t> n = RunDelete(db, del);
      if (!n.ok()) return n.take_status();
      if (*n == 0) continue;
    }
    ++st.report.consents;
    st.persons.insert(person);
  }
  if (examined < st.windows.consents) st.phase = Phase::kDone;
  return Status::Ok();
}

// One transaction: BEGIN, one window of the current phase, COMMIT. A dry run only reads, so it
// does not take the write lock up front.
Status Step(Connection& db, PurgeState& st) {
  CLINSHUB_RETURN_IF_ERROR(db.Exec(st.dry_run ? "BEGIN" : "BEGIN IMMEDIATE"));
  st.items_changed.clear();
  Status done = [&] {
    switch (st.phase) {
      case Phase::kItems: return ItemsWindow(db, st);
      case Phase::kUnits: return UnitsWindow(db, st);
      case Phase::kConsents: return ConsentsWindow(db, st);
      case Phase::kDone: return Status::Ok();
    }
    return Status::Ok();
  }();
  if (done.ok() && !st.items_changed.empty()) {
    Result<std::unique_ptr<Statement>> bump = db.Prepare(kBumpItemsGenerationSql);
    if (!bump.ok()) done = bump.take_status();
    for (const std::string& person : st.items_changed) {
      if (!done.ok()) break;
      ScopedReset reset(**bump);
      (*bump)->BindText(1, person);
      done = (*bump)->Run();
    }
  }
  if (done.ok()) done = db.Exec("COMMIT");
  if (!done.ok() && !db.InAutocommit()) (void)db.Exec("ROLLBACK");
  return done;
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
    Status stepped = run([&st](Connection& db) { return Step(db, st); });
    if (!stepped.ok()) return stepped;
  }
  st.report.persons = static_cast<int64_t>(st.persons.size());
  return st.report;
}

}  // namespace clinshub::store::sqlite

#include "publichealth/export_job.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "fhir/json.h"
#include "publichealth/pseudonym.h"

namespace clinshub::publichealth {
namespace {

using fhir::Value;

constexpr char kPseudonymSystem[] = "urn:clinshub:pseudonym";

struct KindEntry {
  clins::ItemKind kind;
  const char* name;
};
constexpr KindEntry kKinds[] = {
    {clins::ItemKind::kCondition, "condition"},
    {clins::ItemKind::kAllergy, "allergy"},
    {clins::ItemKind::kDrugContraindication, "contraindication"},
    {clins::ItemKind::kLabResult, "lab"},
    {clins::ItemKind::kInfection, "infection"},
    {clins::ItemKind::kPrescription, "prescription"},
};

std::optional<clins::ItemKind> KindFromName(std::string_view name) {
  for (const KindEntry& k : kKinds) {
    if (name == k.name) return k.kind;
  }
  return std::nullopt;
}

std::optional<Timestamp> JapanDate(std::string_view text) {
  if (text.size() != 10) return std::nullopt;
  return ParseFhirDateTime(std::string(text) + "T00:00:00+09:00");
}

bool Contains(const std::vector<clins::ItemKind>& kinds, clins::ItemKind k) {
  return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

// Age in whole years at `at` of someone born on `birth` (yyyy-mm-dd).
std::optional<int> AgeAt(std::string_view birth, Timestamp at) {
  std::optional<Timestamp> b = JapanDate(birth.substr(0, std::min<size_t>(birth.size(), 10)));
  if (!b) return std::nullopt;
  const std::string end = FormatInstant(at + std::chrono::hours(9));  // Japan date
  const int by = std::stoi(std::string(birth.substr(0, 4)));
  const int bm = std::stoi(std::string(birth.substr(5, 2)));
  const int bd = std::stoi(std::string(birth.substr(8, 2)));
  const int y = std::stoi(end.substr(0, 4)), m = std::stoi(end.substr(5, 2)),
            d = std::stoi(end.substr(8, 2));
  return y - by - ((m < bm || (m == bm && d < bd)) ? 1 : 0);
}

// The birth date of the person's Patient in their most recent registered unit.
std::string BirthDate(store::Store& store, const std::string& person_key) {
  Result<std::vector<store::UnitRecord>> units = store.ListUnits(person_key);
  if (!units.ok()) return "";
  for (const store::UnitRecord& u : *units) {
    if (u.status != store::UnitStatus::kRegistered) continue;
    Result<store::ResourceVersion> b = store.Read("Bundle", u.bundle_id);
    if (!b.ok()) continue;
    Result<Value> v = fhir::ParseJson(b->json);
    if (!v.ok() || v->Find("entry") == nullptr) continue;
    for (const Value& e : v->Find("entry")->items()) {
      const Value* r = e.Find("resource");
      if (r && r->StringAt("resourceType") == "Patient" && !r->StringAt("birthDate").empty()) {
        return std::string(r->StringAt("birthDate"));
      }
    }
  }
  return "";
}

Value SubjectIdentifier(const std::string& system, const std::string& value) {
  Value id = Value::Object();
  id.Set("system", Value::String(system));
  id.Set("value", Value::String(value));
  Value ref = Value::Object();
  ref.Set("identifier", std::move(id));
  return ref;
}

// The item's resource as exported: the patient named by pseudonym (or identifier), and in
// pseudonymised exports nothing that names people (contained practitioners, performers,
// narrative, notes).
std::string ExportedResource(const std::string& json, const Value& subject, bool identified) {
  Result<Value> v = fhir::ParseJson(json);
  if (!v.ok()) return "";
  Value out = Value::Object();
  static const std::set<std::string> kDropped = {"contained", "performer", "recorder",
                                                 "asserter", "text",      "note",
                                                 "encounter", "requester"};
  for (const auto& [name, value] : v->members()) {
    if (name == "subject" || name == "patient") {
      out.Set(name, subject);
    } else if (!identified && kDropped.count(name) != 0) {
      continue;
    } else {
      out.Set(name, value);
    }
  }
  return fhir::WriteJson(out);
}

}  // namespace

std::string_view KindName(clins::ItemKind kind) {
  for (const KindEntry& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

Result<ExportRequest> ParseExportRequest(const std::string& json) {
  Result<Value> parsed = fhir::ParseJson(json);
  if (!parsed.ok()) return parsed.take_status();
  const Value& v = *parsed;
  std::vector<Issue> issues;
  auto problem = [&](std::string expression, std::string message) {
    issues.push_back(Issue{Severity::kError, "required", std::move(expression), "",
                           std::move(message)});
  };
  ExportRequest r;
  r.legal_purpose = std::string(v.StringAt("legalPurpose"));
  if (r.legal_purpose.empty()) {
    problem("legalPurpose", "legalPurpose must name the legal basis and purpose of the request");
  }
  auto kinds = [&](const Value* list, std::vector<clins::ItemKind>& out, const char* where) {
    if (list == nullptr) return;
    if (!list->is_array()) return problem(where, std::string(where) + " must be an array");
    for (const Value& k : list->items()) {
      std::optional<clins::ItemKind> kind = KindFromName(k.text());
      if (!kind) {
        problem(where, "'" + k.text() +
                           "' is not a data kind (condition, allergy, contraindication, lab, "
                           "infection, prescription)");
      } else {
        out.push_back(*kind);
      }
    }
  };
  kinds(v.Find("dataKinds"), r.data_kinds, "dataKinds");
  if (r.data_kinds.empty()) problem("dataKinds", "dataKinds must name at least one data kind");
  const Value* period = v.Find("period");
  std::optional<Timestamp> start = period ? JapanDate(period->StringAt("start")) : std::nullopt;
  std::optional<Timestamp> end = period ? JapanDate(period->StringAt("end")) : std::nullopt;
  if (!start || !end || *end <= *start) {
    problem("period", "period needs start and end (yyyy-mm-dd, end after start)");
  } else {
    r.period_start = *start;
    r.period_end = *end + std::chrono::hours(24);  // end date inclusive
  }
  if (const Value* cohort = v.Find("cohort")) {
    kinds(cohort->Find("kinds"), r.cohort_kinds, "cohort.kinds");
    if (const Value* codes = cohort->Find("codes")) {
      for (const Value& c : codes->items()) r.cohort_codes.push_back(c.text());
    }
    r.prefecture = std::string(cohort->StringAt("prefecture"));
    if (!r.prefecture.empty() &&
        (r.prefecture.size() != 2 || r.prefecture.find_first_not_of("0123456789") != std::string::npos)) {
      problem("cohort.prefecture", "prefecture is the 2-digit 都道府県 code (e.g. 13)");
    }
    for (const char* key : {"ageMin", "ageMax"}) {
      if (const Value* a = cohort->Find(key)) {
        if (!a->is_number()) {
          problem(std::string("cohort.") + key, std::string(key) + " must be a number");
          continue;
        }
        (std::string_view(key) == "ageMin" ? r.age_min : r.age_max) = std::stoi(a->text());
      }
    }
  }
  if (r.cohort_kinds.empty()) r.cohort_kinds = r.data_kinds;
  if (const Value* id = v.Find("identified")) r.identified = id->is_bool() && id->bool_value();
  r.identified_authority = std::string(v.StringAt("identifiedAuthority"));
  if (r.identified && r.identified_authority.empty()) {
    problem("identifiedAuthority",
            "Identified data needs identifiedAuthority: the authorisation that allows it; "
            "without it persons are pseudonymised");
  }
  if (!issues.empty()) return Status(ErrorCode::kUnprocessable, std::move(issues));
  return r;
}

ExportRunner::ExportRunner(store::Store& store, const Clock& clock, ExportOptions options,
                           spdlog::logger& logger)
    : store_(store), clock_(clock), options_(std::move(options)), logger_(logger) {}

ExportRunner::~ExportRunner() { Stop(); }

void ExportRunner::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void ExportRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  started_ = false;
}

bool ExportRunner::Stopping() {
  std::lock_guard lock(mu_);
  return stop_;
}

void ExportRunner::Loop() {
  while (true) {
    Result<int> ran = RunOnce();
    if (!ran.ok()) logger_.warn("export: {}", ran.status().ToString());
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.poll_interval, [this] { return stop_; })) return;
  }
}

Result<int> ExportRunner::RunOnce() {
  Result<std::vector<store::ExportJob>> done =
      store_.ListExportJobs(store::ExportState::kCompleted, 100);
  if (!done.ok()) return done.take_status();
  for (store::ExportJob& job : *done) {
    if (job.expires && *job.expires <= clock_.Now()) CLINSHUB_RETURN_IF_ERROR(Expire(job));
  }
  int ran = 0;
  for (store::ExportState state : {store::ExportState::kRunning, store::ExportState::kApproved}) {
    Result<std::vector<store::ExportJob>> jobs = store_.ListExportJobs(state, 10);
    if (!jobs.ok()) return jobs.take_status();
    for (store::ExportJob& job : *jobs) {
      Status st = Run(job);
      if (!st.ok() && Stopping()) return ran;  // left running: resumed on the next start
      if (!st.ok()) {
        logger_.error("export {} failed: {}", job.id, st.ToString());
        Result<store::ExportJob> now = store_.ReadExportJob(job.id);
        if (now.ok() && now->state == store::ExportState::kRunning) {
          store::ExportJob failed = *now;
          failed.state = store::ExportState::kFailed;
          failed.error = st.message();
          store::WriteBatch b;
          b.ops.push_back(store::PutExportJob{failed, store::ExportState::kRunning});
          (void)store_.Commit(std::move(b));
        }
      }
      ++ran;
    }
  }
  return ran;
}

Status ExportRunner::Expire(store::ExportJob job) {
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(options_.directory) / job.id, ec);
  if (ec) return UnavailableError("Cannot delete export files of " + job.id + ": " + ec.message());
  store::ExportJob expired = job;
  expired.state = store::ExportState::kExpired;
  store::AuditEvent e;
  e.actor_kind = "system";
  e.actor = "export";
  e.purpose = "PUBHLTH";
  e.action = "export-expired";
  e.target = "Export/" + job.id;
  e.outcome = "permit";
  e.rule = "export.expiry";
  e.reason = "output files deleted";
  store::WriteBatch b;
  b.ops.push_back(store::PutExportJob{expired, store::ExportState::kCompleted});
  b.ops.push_back(store::AppendAudit{std::move(e)});
  Result<store::CommitResult> c = store_.Commit(std::move(b));
  return c.ok() ? Status::Ok() : c.status();
}

Status ExportRunner::Run(store::ExportJob job) {
  Result<ExportRequest> request = ParseExportRequest(job.request_json);
  if (!request.ok()) return request.take_status();
  const ExportRequest& r = *request;
  if (job.state == store::ExportState::kApproved) {
    store::ExportJob running = job;
    running.state = store::ExportState::kRunning;
    store::WriteBatch b;
    b.ops.push_back(store::PutExportJob{running, store::ExportState::kApproved});
    Result<store::CommitResult> c = store_.Commit(std::move(b));
    if (!c.ok()) return c.take_status();
    job = running;
  }
  std::string secret;
  if (!r.identified) {
    Result<std::string> s = LoadOrCreateSecret(options_.secret_file);
    if (!s.ok()) return s.take_status();
    secret = std::move(*s);
  }
  // A run a crash interrupted starts over: its partial files are discarded.
  const std::filesystem::path dir = std::filesystem::path(options_.directory) / job.id;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("Cannot create " + dir.string() + ": " + ec.message());

  // The cohort: every person with a matching item in the period (the one cross-person read).
  std::vector<std::string> persons;
  store::ItemScanQuery q;
  q.kinds = r.cohort_kinds;
  q.codes = r.cohort_codes;
  q.from = r.period_start;
  q.to = r.period_end;
  q.limit_persons = options_.persons_per_page;
  while (true) {
    Result<std::vector<std::string>> page = store_.ScanCohort(q);
    if (!page.ok()) return page.take_status();
    if (page->empty()) break;
    persons.insert(persons.end(), page->begin(), page->end());
    q.after_person = page->back();
  }

  auto in_period = [&](const store::StoredItem& it) {
    return it.item.clinical_date && *it.item.clinical_date >= r.period_start &&
           *it.item.clinical_date < r.period_end;
  };
  auto in_prefecture = [&](const store::StoredItem& it) {
    return r.prefecture.empty() || it.institution.compare(0, 2, r.prefecture) == 0;
  };
  std::map<std::string, std::ofstream> files;
  std::map<std::string, int64_t> counts;
  auto write = [&](const std::string& type, const std::string& line) {
    auto [it, fresh] = files.try_emplace(type);
    if (fresh) it->second.open(dir / (type + ".ndjson"), std::ios::binary);
    it->second << line << '\n';
    ++counts[type];
  };
  int64_t excluded_undelivered = 0;
  size_t done = 0;
  for (const std::string& person : persons) {
    if (Stopping()) return UnavailableError("export interrupted by shutdown");
    ++done;
    if (r.age_min || r.age_max) {
      std::optional<int> age = AgeAt(BirthDate(store_, person), r.period_end);
      if (!age || (r.age_min && *age < *r.age_min) || (r.age_max && *age > *r.age_max)) continue;
    }
    Result<std::vector<store::StoredItem>> items = store_.ListItems(person);
    if (!items.ok()) return items.take_status();
    bool member = false;
    for (const store::StoredItem& it : *items) {
      if ((it.item.flags & clins::kFlagUndelivered) != 0) continue;
      if (!Contains(r.cohort_kinds, it.item.kind) || !in_period(it) || !in_prefecture(it)) continue;
      if (!r.cohort_codes.empty() &&
          std::find(r.cohort_codes.begin(), r.cohort_codes.end(), it.item.code) ==
              r.cohort_codes.end()) {
        continue;
      }
      member = true;
    }
    if (!member) continue;
    std::string subject_system = kPseudonymSystem;
    std::string subject_value;
    if (r.identified) {
      Result<std::vector<store::RosterEntry>> roster = store_.ListRosterEntries(person);
      if (!roster.ok()) return roster.take_status();
      if (!roster->empty()) {
        const store::RosterEntry* best = &roster->back();
        for (const store::RosterEntry& e : *roster) {
          if (e.valid_to.empty()) best = &e;
        }
        subject_system = best->system;
        subject_value = best->value_normalised;
      }
    } else {
      subject_value = Pseudonym(secret, person);
    }
    const Value subject = SubjectIdentifier(subject_system, subject_value);
    store::AuditEvent e;
    e.actor_kind = "system";
    e.actor = "export:" + job.id;
    e.purpose = "PUBHLTH";
    e.action = "public-health-export";
    e.person_key = person;
    e.target = "Export/" + job.id;
    e.outcome = "permit";
    e.http_status = 200;
    e.rule = "export.two-person";
    e.reason = "Minister's data request (" + r.legal_purpose + "), requested by " +
               job.requester + ", approved by " + job.approver +
               (r.identified ? ", identified" : ", pseudonymised");
    for (const store::StoredItem& it : *items) {
      if (!Contains(r.data_kinds, it.item.kind) || !in_period(it) || !in_prefecture(it)) continue;
      if ((it.item.flags & clins::kFlagUndelivered) != 0) {  // 未提供: never leaves the hub
        ++excluded_undelivered;
        continue;
      }
      std::string line = ExportedResource(it.item.json, subject, r.identified);
      if (line.empty()) continue;
      write(it.item.resource_type, line);
      const std::string ref = it.bundle_id + "/" + std::to_string(it.ordinal);
      e.items.push_back(ref);
      if (it.item.flags & clins::kFlagUninformed) e.patient_hidden_items.push_back(ref);
    }
    Value patient = Value::Object();
    patient.Set("resourceType", Value::String("Patient"));
    Value ids = Value::Array();
    ids.Append(*subject.Find("identifier"));
    patient.Set("identifier", std::move(ids));
    write("Patient", fhir::WriteJson(patient));
    store::WriteBatch b;
    b.ops.push_back(store::AppendAudit{std::move(e)});
    Result<store::CommitResult> c = store_.Commit(std::move(b));
    if (!c.ok()) return c.take_status();
    if (done % options_.persons_per_page == 0) {
      store::ExportJob progress = job;
      progress.progress = static_cast<int>(done * 100 / persons.size());
      store::WriteBatch pb;
      pb.ops.push_back(store::PutExportJob{progress, store::ExportState::kRunning});
      (void)store_.Commit(std::move(pb));
    }
  }
  for (auto& [type, f] : files) {
    f.flush();
    if (!f) return UnavailableError("Cannot write export file " + type + ".ndjson");
    f.close();
  }

  const Timestamp now = clock_.Now();
  Value manifest = Value::Object();
  manifest.Set("transactionTime", Value::String(FormatInstant(now)));
  manifest.Set("request", Value::String("/$export-request/" + job.id));
  manifest.Set("requiresAccessToken", Value::Bool(true));
  Value output = Value::Array();
  std::string summary;
  for (const auto& [type, n] : counts) {
    Value o = Value::Object();
    o.Set("type", Value::String(type));
    o.Set("url", Value::String("/$export-file/" + job.id + "/" + type + ".ndjson"));
    o.Set("count", Value::Number(std::to_string(n)));
    output.Append(std::move(o));
    summary += (summary.empty() ? "" : ", ") + type + "=" + std::to_string(n);
  }
  manifest.Set("output", std::move(output));
  manifest.Set("error", Value::Array());
  store::ExportJob completed = job;
  completed.state = store::ExportState::kCompleted;
  completed.progress = 100;
  completed.manifest_json = fhir::WriteJson(manifest);
  completed.expires = now + options_.expiry;
  store::AuditEvent e;
  e.actor_kind = "system";
  e.actor = "export";
  e.purpose = "PUBHLTH";
  e.action = "export-completed";
  e.target = "Export/" + job.id;
  e.outcome = "permit";
  e.http_status = 200;
  e.rule = "export.two-person";
  e.reason = "requested by " + job.requester + ", approved by " + job.approver + "; " +
             (summary.empty() ? "no output" : summary) + "; excluded 未提供 items=" +
             std::to_string(excluded_undelivered) +
             (r.identified ? "; identified" : "; pseudonymised");
  store::WriteBatch b;
  b.ops.push_back(store::PutExportJob{completed, store::ExportState::kRunning});
  b.ops.push_back(store::AppendAudit{std::move(e)});
  Result<store::CommitResult> c = store_.Commit(std::move(b));
  return c.ok() ? Status::Ok() : c.status();
}

}  // namespace clinshub::publichealth

// https://hl7.org/fhir/R4/search.html on Bundle (GET /Bundle?patient.identifier=…&type=document):
// a patient's registered documents (診療情報提供書, 退院時サマリー, 健康診断結果報告書) as the
// stored Bundles, newest document date first. Listing needs what $summary needs (consent,
// emergency or the patient themself); each referral letter is included only if
// AuthorizeResourceRead would let the caller retrieve it (its sender, or a recipient once the
// letter is 閲覧可 / 取得済 — never the portal), and a recipient's listing retrieves it (取得済)
// exactly as reading it does.
#include <algorithm>
#include <set>

#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "api/search_params.h"
#include "fhir/json.h"
#include "fhir/json_string.h"

namespace clinshub::api {
namespace {

const std::set<std::string, std::less<>> kDocumentKinds = {"referral", "discharge-summary",
                                                           "checkup"};

struct DocumentQuery {
  std::string patient_param;
  std::set<std::string, std::less<>> kinds;  // empty: all
  std::vector<std::string> ignored;
};

Result<DocumentQuery> ParseDocumentQuery(const Request& request) {
  DocumentQuery q;
  const bool lenient = LenientHandling(request);
  std::set<std::string> seen;
  for (const auto& [name, value] : request.query.items()) {
    if (name == "_format" || name == "_pretty") continue;
    if (!seen.insert(name).second) {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Search parameter " + name + " may be given only once", name);
    }
    if (name == "patient.identifier" || name == "patient") {
      if (!q.patient_param.empty()) {
        return Status::Error(ErrorCode::kMalformed, "not-supported",
                             "Name the patient once (patient.identifier or patient)", name);
      }
      q.patient_param = name;
    } else if (name == "type") {
      if (value != "document") {
        return Status::Error(ErrorCode::kMalformed, "value",
                             "Only type=document is searchable: 6-information bundles are read "
                             "through $summary and the resource searches, which apply the flags",
                             name);
      }
    } else if (name == "kind") {
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t comma = value.find(',', pos);
        if (comma == std::string::npos) comma = value.size();
        std::string one = value.substr(pos, comma - pos);
        if (!kDocumentKinds.contains(one)) {
          return Status::Error(ErrorCode::kMalformed, "value",
                               "kind is a comma list of referral, discharge-summary, checkup",
                               name);
        }
        q.kinds.insert(one);
        pos = comma + 1;
      }
    } else if (lenient) {
      q.ignored.push_back(name);
    } else {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Unsupported search parameter '" + name +
                               "' for Bundle; supported: patient.identifier (or patient), "
                               "type=document, kind",
                           name);
    }
  }
  if (q.patient_param.empty()) {
    return Status::Error(ErrorCode::kMalformed, "required",
                         "Name the patient: patient.identifier=system|value", "patient.identifier");
  }
  return q;
}

// Composition.date of a document Bundle ("" if absent): documents sort on it.
std::string DocumentDate(const fhir::Value& bundle) {
  const fhir::Value* entries = bundle.Find("entry");
  if (entries == nullptr || entries->items().empty()) return "";
  const fhir::Value* composition = entries->items().front().Find("resource");
  if (composition == nullptr) return "";
  std::optional<DateRange> r = ParseDateRange(composition->StringAt("date"));
  return r ? FormatInstant(r->start) : "";
}

struct Document {
  store::UnitRecord unit;
  std::string json;
  std::string date;  // FormatInstant of Composition.date, sorts as text
};

}  // namespace

Result<Response> SearchDocuments(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  Result<DocumentQuery> query = ParseDocumentQuery(request);
  if (!query.ok()) return query.take_status();
  Result<Patient> patient = ResolvePatientParameter(ctx, request, query->patient_param);
  if (!patient.ok()) return patient.take_status();

  access::Facts facts;
  facts.emergency_reason = caller->emergency_reason;
  if (caller->actor.kind == access::ActorKind::kInstitution) {
    Result<bool> consent = HasActiveConsent(ctx, patient->person_key(), caller->actor.id);
    if (!consent.ok()) return consent.take_status();
    facts.active_consent = *consent;
  }
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kReadPatientData,
                                     patient->person_key(), "Bundle?type=document");
  event.action = "read";  // the patient's access log lists it with the other reads
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kReadPatientData, facts, event));

  Result<std::vector<store::UnitRecord>> units = ctx.store.ListUnits(patient->person_key());
  if (!units.ok()) return units.take_status();
  std::vector<Document> documents;
  store::WriteBatch batch;
  for (store::UnitRecord& unit : *units) {
    if (unit.status != store::UnitStatus::kRegistered || !kDocumentKinds.contains(unit.kind)) {
      continue;
    }
    if (!query->kinds.empty() && !query->kinds.contains(unit.kind)) continue;
    const bool sender = caller->actor.kind == access::ActorKind::kInstitution &&
                        caller->actor.id == unit.institution;
    bool retrieves = false;
    if (unit.kind == "referral") {
      // The same decision as reading the letter by id (AuthorizeResourceRead).
      access::Facts letter;
      letter.is_sender = sender;
      Result<std::vector<store::ReferralRecipient>> recipients =
          ctx.store.ListReferralRecipients(unit.key);
      if (!recipients.ok()) return recipients.take_status();
      for (const store::ReferralRecipient& r : *recipients) {
        if (r.recipient == caller->actor.id) letter.referral_state = r.state;
      }
      if (!access::Decide(caller->actor, caller->purpose, access::Action::kReadReferral, letter)
               .permit) {
        continue;
      }
      retrieves = !sender && letter.referral_state == store::ReferralState::kViewable;
    }
    Result<store::ResourceVersion> bundle = ctx.store.Read("Bundle", unit.bundle_id);
    if (!bundle.ok()) {
      // Withdrawn between the listing and the read: no longer a registered document.
      if (bundle.status().code() == ErrorCode::kGone ||
          bundle.status().code() == ErrorCode::kNotFound) {
        continue;
      }
      return bundle.take_status();
    }
    Result<fhir::Value> parsed = fhir::ParseJson(bundle->json);
    if (!parsed.ok()) return InternalError("stored Bundle " + unit.bundle_id + " is not JSON");
    if (retrieves) {
      store::SetReferralState retrieved;
      retrieved.unit = unit.key;
      retrieved.recipient = caller->actor.id;
      retrieved.state = store::ReferralState::kRetrieved;
      retrieved.allowed_from = {store::ReferralState::kViewable};
      retrieved.set_by = "retrieval";
      retrieved.strict = false;
      batch.ops.emplace_back(std::move(retrieved));
    }
    documents.push_back({std::move(unit), std::move(bundle->json), DocumentDate(*parsed)});
  }
  // Most recent first (the portal shows the latest 健診 first); then the latest change.
  std::stable_sort(documents.begin(), documents.end(), [](const Document& a, const Document& b) {
    if (a.date != b.date) return a.date > b.date;
    return a.unit.last_changed > b.unit.last_changed;
  });

  const std::string base = BaseUrl(ctx.config, request);
  std::string body = R"({"resourceType":"Bundle","type":"searchset","timestamp":)" +
                     fhir::JsonString(FormatInstant(ctx.clock.Now())) +
                     R"(,"total":)" + std::to_string(documents.size()) + R"(,"entry":[)";
  bool first = true;
  for (const Document& d : documents) {
    event.items.push_back(d.unit.bundle_id);
    if (!first) body += ',';
    first = false;
    body += R"({"fullUrl":)" +
            fhir::JsonString(base + "/Bundle/" + d.unit.bundle_id) +
            R"(,"resource":)" + d.json + R"(,"search":{"mode":"match"}})";
  }
  if (!query->ignored.empty()) {
    fhir::Value outcome = fhir::Value::Object();
    outcome.Set("resourceType", fhir::Value::String("OperationOutcome"));
    fhir::Value& issues = outcome.Set("issue", fhir::Value::Array());
    for (const std::string& name : query->ignored) {
      fhir::Value issue = fhir::Value::Object();
      issue.Set("severity", fhir::Value::String("warning"));
      issue.Set("code", fhir::Value::String("not-supported"));
      issue.Set("diagnostics",
                fhir::Value::String("Unsupported search parameter '" + name + "' was ignored"));
      issue.Set("expression", fhir::Value::Array()).Append(fhir::Value::String(name));
      issues.Append(std::move(issue));
    }
    if (!first) body += ',';
    body += R"({"resource":)" + fhir::WriteJson(outcome) + R"(,"search":{"mode":"outcome"}})";
  }
  body += "]}";

  event.http_status = 200;
  if (!batch.ops.empty()) event.action = "retrieve";  // it also retrieved letters (取得済)
  batch.ops.emplace_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  Response response;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = std::move(body);
  return response;
}

}  // namespace clinshub::api

// 感染症発生届 through the hub (docs/public-health.md), FHIR operations on Patient and Bundle:
//   POST /Patient/$notification-draft?identifier=system|value&disease=CODE — a draft Bundle
//        pre-filled from the CALLING institution's own registered items only;
//   POST /Bundle/$notify — the completed notification: validated, stored and queued for the
//        surveillance endpoint in one transaction (store/public_health.h, the outbox);
//   GET  /Bundle/$notification-status?identifier=VALUE (or ?id=) — queued / delivered / failed.
#include <algorithm>
#include <regex>

#include "api/access_gate.h"
#include "api/bundle_units.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "clins/items.h"
#include "common/sha256.h"
#include "fhir/json.h"
#include "publichealth/notifiable_diseases.h"

namespace clinshub::api {
namespace {

using fhir::Value;

constexpr char kInstitutionSystem[] =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
constexpr char kNotificationIdentifierSystem[] =
    "http://clinshub.example/fhir/notification-identifier";
constexpr char kNotificationProfile[] =
    "http://clinshub.example/fhir/StructureDefinition/infectious-disease-notification";

Value Str(std::string s) { return Value::String(std::move(s)); }

Value Identifier(std::string system, std::string value) {
  Value id = Value::Object();
  id.Set("system", Str(std::move(system)));
  id.Set("value", Str(std::move(value)));
  return id;
}

Value Entry(std::string full_url, Value resource) {
  Value e = Value::Object();
  e.Set("fullUrl", Str(std::move(full_url)));
  e.Set("resource", std::move(resource));
  return e;
}

Value CodeableConcept(const publichealth::NotifiableDisease& d) {
  Value coding = Value::Object();
  coding.Set("system", Str(publichealth::kNotifiableDiseaseSystem));
  coding.Set("code", Str(std::string(d.code)));
  coding.Set("display", Str(std::string(d.name)));
  Value codings = Value::Array();
  codings.Append(std::move(coding));
  Value cc = Value::Object();
  cc.Set("coding", std::move(codings));
  cc.Set("text", Str(std::string(d.name)));
  return cc;
}

bool MentionsDisease(const std::string& text, const publichealth::NotifiableDisease& d) {
  std::string_view words = d.keywords;
  while (!words.empty()) {
    size_t bar = words.find('|');
    std::string_view w = words.substr(0, bar);
    if (!w.empty() && text.find(w) != std::string::npos) return true;
    if (bar == std::string_view::npos) break;
    words.remove_prefix(bar + 1);
  }
  return false;
}

// The Patient resource of the caller's most recent own unit for the person, if any.
std::optional<Value> OwnPatientResource(const InteractionContext& ctx,
                                        const std::string& person_key,
                                        const std::string& institution) {
  Result<std::vector<store::UnitRecord>> units = ctx.store.ListUnits(person_key);
  if (!units.ok()) return std::nullopt;
  for (const store::UnitRecord& u : *units) {  // newest change first
    if (u.institution != institution || u.status != store::UnitStatus::kRegistered) continue;
    Result<store::ResourceVersion> bundle = ctx.store.Read("Bundle", u.bundle_id);
    if (!bundle.ok()) continue;
    Result<Value> parsed = fhir::ParseJson(bundle->json);
    if (!parsed.ok()) continue;
    const Value* entries = parsed->Find("entry");
    if (entries == nullptr) continue;
    for (const Value& e : entries->items()) {
      const Value* r = e.Find("resource");
      if (r != nullptr && r->StringAt("resourceType") == "Patient") return *r;
    }
  }
  return std::nullopt;
}

Result<const publichealth::NotifiableDisease*> ParseDisease(const Request& request) {
  std::vector<std::string_view> values = request.query.All("disease");
  if (values.size() != 1) {
    return Status::Error(ErrorCode::kMalformed, "required",
                         "Exactly one disease=CODE (a notifiable-disease code) is required",
                         "disease");
  }
  const publichealth::NotifiableDisease* d = publichealth::FindNotifiableDisease(values[0]);
  if (d == nullptr) {
    return Status::Error(ErrorCode::kMalformed, "code-invalid",
                         "'" + std::string(values[0]) +
                             "' is not a notifiable disease (see docs/public-health.md)",
                         "disease");
  }
  return d;
}

// ---- Validation of a submitted notification --------------------------------------------

struct Parsed {
  const publichealth::NotifiableDisease* disease = nullptr;
  std::string identifier;
  std::string patient_system, patient_value;
};

Result<Parsed> Validate(const Value& bundle, const std::string& caller) {
  std::vector<Issue> issues;
  auto problem = [&](std::string code, std::string expression, std::string message) {
    issues.push_back(Issue{Severity::kError, std::move(code), std::move(expression), "",
                           std::move(message)});
  };
  Parsed p;
  if (bundle.StringAt("resourceType") != "Bundle" || bundle.StringAt("type") != "collection") {
    problem("invalid", "Bundle.type", "A notification is a Bundle of type collection");
  }
  const Value* id = bundle.Find("identifier");
  static const std::regex kIdentifier("^([0-4][0-9][1-3][0-9]{7})\\^20[2-3][0-9]\\^[A-Za-z0-9-]{1,36}$");
  std::smatch m;
  std::string id_value = id ? std::string(id->StringAt("value")) : "";
  if (id == nullptr || id->StringAt("system") != kNotificationIdentifierSystem ||
      !std::regex_match(id_value, m, kIdentifier)) {
    problem("required", "Bundle.identifier",
            std::string("Bundle.identifier must be system ") + kNotificationIdentifierSystem +
                " with value 医療機関コード^西暦4桁^ID≤36");
  } else if (m[1].str() != caller) {
    problem("forbidden", "Bundle.identifier.value",
            "The identifier names institution " + m[1].str() + ", not the caller " + caller);
  }
  p.identifier = id_value;

  const Value* patient = nullptr;
  const Value* condition = nullptr;
  const Value* practitioner = nullptr;
  const Value* organization = nullptr;
  int conditions = 0;
  if (const Value* entries = bundle.Find("entry")) {
    for (const Value& e : entries->items()) {
      const Value* r = e.Find("resource");
      if (r == nullptr) continue;
      std::string_view type = r->StringAt("resourceType");
      if (type == "Patient" && patient == nullptr) patient = r;
      if (type == "Practitioner" && practitioner == nullptr) practitioner = r;
      if (type == "Organization" && organization == nullptr) organization = r;
      if (type == "Condition") {
        const Value* codings = r->Find("code") ? r->Find("code")->Find("coding") : nullptr;
        bool notifiable = false;
        if (codings != nullptr) {
          for (const Value& c : codings->items()) {
            notifiable |= c.StringAt("system") == publichealth::kNotifiableDiseaseSystem;
          }
        }
        if (notifiable) {
          ++conditions;
          condition = r;
        }
      }
    }
  }
  if (patient == nullptr) {
    problem("required", "Bundle.entry", "The notification must include the Patient");
  } else {
    const Value* ids = patient->Find("identifier");
    if (ids == nullptr || ids->items().empty()) {
      problem("required", "Patient.identifier",
              "The Patient must carry the insurance identifier the roster knows");
    } else {
      p.patient_system = std::string(ids->items()[0].StringAt("system"));
      p.patient_value = std::string(ids->items()[0].StringAt("value"));
    }
  }
  if (conditions != 1) {
    problem("required", "Bundle.entry",
            std::string("The notification must include exactly one Condition coded in ") +
                publichealth::kNotifiableDiseaseSystem);
  } else {
    std::string code;
    for (const Value& c : condition->Find("code")->Find("coding")->items()) {
      if (c.StringAt("system") == publichealth::kNotifiableDiseaseSystem) {
        code = std::string(c.StringAt("code"));
      }
    }
    p.disease = publichealth::FindNotifiableDisease(code);
    if (p.disease == nullptr) {
      problem("code-invalid", "Condition.code.coding",
              "'" + code + "' is not a notifiable disease (see docs/public-health.md)");
    } else {
      auto date_ok = [&](std::string_view field) {
        return ParseFhirDateTime(condition->StringAt(field)).has_value();
      };
      if ((p.disease->required & publichealth::kFieldDiagnosisDate) && !date_ok("recordedDate")) {
        problem("required", "Condition.recordedDate",
                "The diagnosis date (診断年月日) is required in Condition.recordedDate");
      }
      if ((p.disease->required & publichealth::kFieldOnsetDate) && !date_ok("onsetDateTime")) {
        problem("required", "Condition.onsetDateTime",
                "The onset date (発病年月日) is required for " + std::string(p.disease->name));
      }
      if ((p.disease->required & publichealth::kFieldLabMethod) &&
          condition->Find("evidence") == nullptr) {
        problem("required", "Condition.evidence",
                "The diagnostic method and results (診断方法) are required in Condition.evidence");
      }
    }
  }
  if (practitioner == nullptr || practitioner->Find("name") == nullptr) {
    problem("required", "Practitioner.name",
            "The notifying physician (医師の氏名) is required as a Practitioner with a name");
  }
  bool org_ok = false;
  if (organization != nullptr) {
    if (const Value* ids = organization->Find("identifier")) {
      for (const Value& i : ids->items()) {
        org_ok |= i.StringAt("system") == kInstitutionSystem && i.StringAt("value") == caller;
      }
    }
  }
  if (!org_ok) {
    problem("required", "Organization.identifier",
            "The reporting institution must be an Organization identified by the caller's "
            "医療機関コード " + caller);
  }
  if (!issues.empty()) return Status(ErrorCode::kUnprocessable, std::move(issues));
  return p;
}

std::string NotificationId(const std::string& institution, const std::string& identifier) {
  return Sha256Hex(institution + "|" + identifier).substr(0, 32);
}

std::string_view DeliveryStateCode(store::DeliveryState s) {
  switch (s) {
    case store::DeliveryState::kQueued: return "queued";
    case store::DeliveryState::kDelivered: return "delivered";
    case store::DeliveryState::kFailed: return "failed";
  }
  return "queued";
}

Response StatusResponse(int http, const store::NotificationRecord& n,
                        const store::DeliveryRecord& d) {
  Value p = Value::Object();
  p.Set("resourceType", Str("Parameters"));
  Value params = Value::Array();
  auto add = [&](const char* name, Value v, const char* type) {
    Value one = Value::Object();
    one.Set("name", Str(name));
    one.Set(type, std::move(v));
    params.Append(std::move(one));
  };
  add("id", Str(n.id), "valueString");
  add("identifier", Str(n.identifier), "valueString");
  add("disease", Str(n.disease_code), "valueCode");
  add("status", Str(std::string(DeliveryStateCode(d.state))), "valueCode");
  add("attempts", Value::Number(std::to_string(d.attempts)), "valueInteger");
  add("submitted", Str(FormatInstant(n.submitted)), "valueInstant");
  if (d.state == store::DeliveryState::kQueued) {
    add("nextAttempt", Str(FormatInstant(d.next_attempt)), "valueInstant");
  }
  if (d.delivered) add("delivered", Str(FormatInstant(*d.delivered)), "valueInstant");
  if (!d.last_error.empty()) add("lastError", Str(d.last_error), "valueString");
  p.Set("parameter", std::move(params));
  Response r;
  r.status = http;
  r.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  r.body = fhir::WriteJson(p);
  return r;
}

}  // namespace

Result<Response> NotificationDraft(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  Result<Patient> patient = ResolvePatientParameter(ctx, request, "identifier");
  if (!patient.ok()) return patient.take_status();
  Result<const publichealth::NotifiableDisease*> disease = ParseDisease(request);
  if (!disease.ok()) return disease.take_status();
  const publichealth::NotifiableDisease& d = **disease;

  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kDraftNotification,
                                     patient->person_key(), "Patient/$notification-draft");
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kDraftNotification, {}, event));
  const std::string& me = caller->actor.id;

  Result<std::vector<store::StoredItem>> items = ctx.store.ListItems(patient->person_key());
  if (!items.ok()) return items.take_status();
  const Timestamp now = ctx.clock.Now();

  Value bundle = Value::Object();
  bundle.Set("resourceType", Str("Bundle"));
  Value meta = Value::Object();
  Value profiles = Value::Array();
  profiles.Append(Str(kNotificationProfile));
  meta.Set("profile", std::move(profiles));
  bundle.Set("meta", std::move(meta));
  const std::string year = FormatInstant(now).substr(0, 4);
  bundle.Set("identifier", Identifier(kNotificationIdentifierSystem,
                                      me + "^" + year + "^" + ctx.ids.NewId().substr(0, 32)));
  bundle.Set("type", Str("collection"));
  bundle.Set("timestamp", Str(FormatInstant(now)));
  Value entries = Value::Array();

  // Identity: the Patient the caller itself registered, else the roster identifier only.
  std::optional<Value> own_patient = OwnPatientResource(ctx, patient->person_key(), me);
  Value p = own_patient ? *own_patient : Value::Object();
  if (!own_patient) p.Set("resourceType", Str("Patient"));
  Value ids = Value::Array();
  ids.Append(Identifier(patient->system, patient->value));
  p.Set("identifier", std::move(ids));
  entries.Append(Entry("urn:uuid:patient", std::move(p)));

  Value condition = Value::Object();
  condition.Set("resourceType", Str("Condition"));
  condition.Set("code", CodeableConcept(d));
  Value subject = Value::Object();
  subject.Set("reference", Str("urn:uuid:patient"));
  condition.Set("subject", std::move(subject));
  condition.Set("recordedDate", Str(FormatInstant(now).substr(0, 10)));
  Value evidence = Value::Array();
  std::optional<Timestamp> onset;
  for (const store::StoredItem& it : *items) {
    if (it.institution != me) continue;  // never another institution's data
    const bool infection = it.item.kind == clins::ItemKind::kInfection;
    const bool related = it.item.kind == clins::ItemKind::kCondition && MentionsDisease(it.item.text, d);
    if (!infection && !related) continue;
    const std::string ref = ItemRef(it.bundle_id, it.ordinal);
    event.items.push_back(ref);
    Result<Value> resource = fhir::ParseJson(it.item.json);
    if (!resource.ok()) continue;
    const std::string url = "urn:clinshub:item:" + ref;
    entries.Append(Entry(url, std::move(*resource)));
    if (related && it.item.clinical_date && (!onset || *it.item.clinical_date < *onset)) {
      onset = it.item.clinical_date;
    }
    if (infection) {
      Value detail = Value::Object();
      detail.Set("reference", Str(url));
      Value details = Value::Array();
      details.Append(std::move(detail));
      Value ev = Value::Object();
      ev.Set("detail", std::move(details));
      evidence.Append(std::move(ev));
    }
  }
  if (onset) condition.Set("onsetDateTime", Str(FormatInstant(*onset).substr(0, 10)));
  if (!evidence.items().empty()) condition.Set("evidence", std::move(evidence));
  entries.Append(Entry("urn:uuid:condition", std::move(condition)));

  Value practitioner = Value::Object();
  practitioner.Set("resourceType", Str("Practitioner"));
  entries.Append(Entry("urn:uuid:practitioner", std::move(practitioner)));
  Value org = Value::Object();
  org.Set("resourceType", Str("Organization"));
  Value org_ids = Value::Array();
  org_ids.Append(Identifier(kInstitutionSystem, me));
  org.Set("identifier", std::move(org_ids));
  if (Result<store::InstitutionRecord> rec = ctx.store.ReadInstitution(me); rec.ok()) {
    org.Set("name", Str(rec->name));
  }
  entries.Append(Entry("urn:uuid:organization", std::move(org)));
  bundle.Set("entry", std::move(entries));

  event.http_status = 200;
  CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));
  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = fhir::WriteJson(bundle);
  return response;
}

Result<Response> SubmitNotification(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  Result<Value> bundle = fhir::ParseJson(request.body);
  if (!bundle.ok()) return bundle.take_status();
  // Decide before validating: an unauthorised caller learns nothing from our checks.
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kSubmitNotification, "",
                                     "Bundle/$notify");
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kSubmitNotification, {}, event));
  const std::string& me = caller->actor.id;
  Result<Parsed> parsed = Validate(*bundle, me);
  if (!parsed.ok()) return parsed.take_status();
  Result<Patient> patient = ResolvePatient(ctx, parsed->patient_system, parsed->patient_value,
                                           ErrorCode::kUnprocessable, "Patient.identifier");
  if (!patient.ok()) return patient.take_status();

  store::NotificationRecord n;
  n.person_key = patient->person_key();
  n.id = NotificationId(me, parsed->identifier);
  n.institution = me;
  n.identifier = parsed->identifier;
  n.disease_code = std::string(parsed->disease->code);
  n.bundle_json = fhir::WriteJson(*bundle);
  n.content_hash = Sha256Hex(n.bundle_json);

  // A resend of the same notification is answered with its status, not queued twice.
  if (Result<store::NotificationRecord> existing = ctx.store.ReadNotification(n.id);
      existing.ok()) {
    if (existing->content_hash != n.content_hash) {
      return Status::Error(ErrorCode::kConflict, "duplicate",
                           "Notification " + n.identifier +
                               " was already filed with different content",
                           "Bundle.identifier");
    }
    Result<store::DeliveryRecord> d = ctx.store.ReadDelivery(n.id);
    if (!d.ok()) return d.take_status();
    return StatusResponse(200, *existing, *d);
  } else if (existing.status().code() != ErrorCode::kNotFound) {
    return existing.take_status();
  }

  event.person_key = n.person_key;
  event.target = "Notification/" + n.id;
  event.http_status = 202;
  store::WriteBatch batch;
  batch.ops.push_back(store::PutNotification{n});
  batch.ops.push_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  Result<store::NotificationRecord> stored = ctx.store.ReadNotification(n.id);
  if (!stored.ok()) return stored.take_status();
  Result<store::DeliveryRecord> d = ctx.store.ReadDelivery(n.id);
  if (!d.ok()) return d.take_status();
  Response response = StatusResponse(202, *stored, *d);
  response.headers.Set("Content-Location", BaseUrl(ctx.config, request) +
                                               "/Bundle/$notification-status?id=" + n.id);
  return response;
}

Result<Response> NotificationStatus(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  std::vector<std::string_view> ids = request.query.All("id");
  std::vector<std::string_view> identifiers = request.query.All("identifier");
  if (ids.size() + identifiers.size() != 1) {
    return Status::Error(ErrorCode::kMalformed, "required",
                         "Give exactly one of id=NOTIFICATION_ID or identifier=BUNDLE_IDENTIFIER",
                         "identifier");
  }
  std::string id = ids.size() == 1
                       ? std::string(ids[0])
                       : NotificationId(caller->actor.id, std::string(identifiers[0]));
  Result<store::NotificationRecord> n = ctx.store.ReadNotification(id);
  access::Facts facts;
  facts.is_notifier = n.ok() && n->institution == caller->actor.id;
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kReadNotificationStatus,
                                     n.ok() ? n->person_key : "", "Notification/" + id);
  if (!n.ok() && n.status().code() != ErrorCode::kNotFound) return n.take_status();
  if (!n.ok() && caller->actor.kind == access::ActorKind::kInstitution) {
    return NotFoundError("No notification " + id + " filed by this institution");
  }
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kReadNotificationStatus, facts, event));
  Result<store::DeliveryRecord> d = ctx.store.ReadDelivery(id);
  if (!d.ok()) return d.take_status();
  return StatusResponse(200, *n, *d);
}

}  // namespace clinshub::api

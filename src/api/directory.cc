// https://hl7.org/fhir/R4/http.html#search (GET /Organization), #read and #update on
// /Organization/{code}: the institution directory as FHIR Organization resources. Any
// authenticated actor searches and reads it; only the operator changes it.
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <set>

#include "access/bulk_load.h"
#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/organization_resource.h"
#include "api/resource_response.h"
#include "api/write_common.h"
#include "clins/codes.h"
#include "common/japanese_text.h"
#include "fhir/json.h"

namespace clinshub::api {
namespace {

constexpr size_t kDefaultCount = 50;
constexpr size_t kMaxCount = 500;
constexpr size_t kMaxOffset = 1000000;

// Parameters whose meaning is the transport's, not the search's.
const std::set<std::string, std::less<>> kTransportParams = {"_format", "_pretty"};

std::string DigitsOf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

Result<size_t> SizeParam(std::string_view name, std::string_view text, size_t min, size_t max) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < min || n > max) {
    return Status::Error(ErrorCode::kMalformed, "value",
                         std::string(name) + " must be a whole number from " +
                             std::to_string(min) + " to " + std::to_string(max),
                         std::string(name));
  }
  return n;
}

Status EmptyAfterNormalising(const std::string& name) {
  return Status::Error(ErrorCode::kMalformed, "value",
                       "Search parameter " + name + " has no value to search for", name);
}

// The search as understood: the store query plus the parameters that made it (for the self
// link) and those ignored under Prefer: handling=lenient.
struct ParsedSearch {
  store::InstitutionQuery query;
  bool match_nothing = false;  // e.g. an identifier in another system
  std::vector<std::pair<std::string, std::string>> used;
  std::vector<std::string> ignored;
};

bool Lenient(const Request& request) {
  std::string_view prefer = request.headers.Get("Prefer").value_or("");
  return prefer.find("handling=lenient") != std::string_view::npos;
}

Result<ParsedSearch> ParseSearch(const Request& request) {
  ParsedSearch s;
  s.query.limit = kDefaultCount;
  const bool lenient = Lenient(request);
  std::set<std::string> seen;
  for (const auto& [name, value] : request.query.items()) {
    if (kTransportParams.contains(name)) continue;
    if (!seen.insert(name).second) {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Search parameter " + name + " may be given only once", name);
    }
    bool known = true;
    if (name == "name" || name == "name:contains") {
      if (seen.contains(name == "name" ? "name:contains" : "name")) {
        return Status::Error(ErrorCode::kMalformed, "not-supported",
                             "Give name or name:contains, not both", name);
      }
      s.query.name_or_kana = NormaliseForSearch(value);
      s.query.name_contains = name == "name:contains";
      if (s.query.name_or_kana.empty()) return EmptyAfterNormalising(name);
    } else if (name == "phonetic") {
      s.query.kana = NormaliseForSearch(value);
      if (s.query.kana.empty()) return EmptyAfterNormalising(name);
    } else if (name == "address" || name == "address:contains") {
      if (seen.contains(name == "address" ? "address:contains" : "address")) {
        return Status::Error(ErrorCode::kMalformed, "not-supported",
                             "Give address or address:contains, not both", name);
      }
      s.query.address = NormaliseForSearch(value);
      if (s.query.address.empty()) return EmptyAfterNormalising(name);
    } else if (name == "address-postalcode") {
      s.query.postcode = DigitsOf(NormaliseIdentifier(value));
      if (s.query.postcode.empty()) return EmptyAfterNormalising(name);
    } else if (name == "phone" || name == "telecom") {
      if (seen.contains(name == "phone" ? "telecom" : "phone")) {
        return Status::Error(ErrorCode::kMalformed, "not-supported",
                             "Give phone or telecom, not both", name);
      }
      std::string_view number = value;
      if (name == "telecom" && number.find('|') != std::string_view::npos) {
        std::string_view system = number.substr(0, number.find('|'));
        number = number.substr(number.find('|') + 1);
        if (!system.empty() && system != "phone") s.match_nothing = true;
      }
      s.query.phone = DigitsOf(NormaliseIdentifier(number));
      if (s.query.phone.empty()) return EmptyAfterNormalising(name);
    } else if (name == "identifier" || name == "_id") {
      std::string_view code = value;
      if (name == "identifier" && code.find('|') != std::string_view::npos) {
        std::string_view system = code.substr(0, code.find('|'));
        code = code.substr(code.find('|') + 1);
        if (!system.empty() && system != kInstitutionCodeSystem) s.match_nothing = true;
      }
      s.query.code = NormaliseIdentifier(code);
      if (s.query.code.empty()) return EmptyAfterNormalising(name);
    } else if (name == "active") {
      if (value != "true" && value != "false") {
        return Status::Error(ErrorCode::kMalformed, "value", "active must be true or false",
                             name);
      }
      s.query.active = value == "true";
    } else if (name == "_count") {
      Result<size_t> n = SizeParam(name, value, 1, kMaxCount);
      if (!n.ok()) {
        // Larger than the maximum: served at the maximum (FHIR lets the server cap _count).
        Result<size_t> any = SizeParam(name, value, 1, SIZE_MAX - 1);
        if (!any.ok()) return n.take_status();
        n = kMaxCount;
      }
      s.query.limit = *n;
      continue;
    } else if (name == "_offset") {
      Result<size_t> n = SizeParam(name, value, 0, kMaxOffset);
      if (!n.ok()) return n.take_status();
      s.query.offset = *n;
      continue;
    } else {
      known = false;
    }
    if (!known) {
      if (!lenient) {
        return Status::Error(ErrorCode::kMalformed, "not-supported",
                             "Unknown search parameter '" + name +
                                 "' for Organization; supported: name, name:contains, "
                                 "phonetic, address, address-postalcode, phone, telecom, "
                                 "identifier, _id, active, _count, _offset",
                             name);
      }
      s.ignored.push_back(name);
      continue;
    }
    s.used.emplace_back(name, value);
  }
  return s;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string PageLink(const std::string& base, const ParsedSearch& s, size_t offset) {
  std::string url = base + "/Organization?";
  for (const auto& [name, value] : s.used) {
    url += PercentEncode(name) + "=" + PercentEncode(value) + "&";
  }
  return url + "_count=" + std::to_string(s.query.limit) + "&_offset=" + std::to_string(offset);
}

fhir::Value Link(std::string relation, std::string url) {
  fhir::Value link = fhir::Value::Object();
  link.Set("relation", fhir::Value::String(std::move(relation)));
  link.Set("url", fhir::Value::String(std::move(url)));
  return link;
}

Response JsonResponse(int status, const fhir::Value& body) {
  Response response;
  response.status = status;
  response.body = fhir::WriteJson(body);
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  return response;
}

Status CheckCode(const std::string& code) {
  if (clins::IsInstitutionCode(code)) return Status::Ok();
  return Status::Error(ErrorCode::kMalformed, "value",
                       "'" + code + "' is not a 10-digit institution code", "Organization.id");
}

}  // namespace

Result<Response> SearchOrganizations(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event =
      AuditFor(ctx, *caller, access::Action::kSearchDirectory, "", "Organization");
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kSearchDirectory, {}, event));
  Result<ParsedSearch> search = ParseSearch(request);
  if (!search.ok()) return search.take_status();

  // One more than the page tells whether there is a next page.
  std::vector<store::InstitutionRecord> found;
  if (!search->match_nothing) {
    store::InstitutionQuery query = search->query;
    ++query.limit;
    Result<std::vector<store::InstitutionRecord>> rows = ctx.store.SearchInstitutions(query);
    if (!rows.ok()) return rows.take_status();
    found = std::move(rows).value();
  }
  const size_t limit = search->query.limit, offset = search->query.offset;
  const bool more = found.size() > limit;
  if (more) found.resize(limit);

  const std::string base = BaseUrl(ctx.config, request);
  fhir::Value bundle = fhir::Value::Object();
  bundle.Set("resourceType", fhir::Value::String("Bundle"));
  bundle.Set("meta", fhir::Value::Object())
      .Set("lastUpdated", fhir::Value::String(FormatInstant(ctx.clock.Now())));
  bundle.Set("type", fhir::Value::String("searchset"));
  // The total is known when this page reaches the end of the matches.
  if (!more && (offset == 0 || !found.empty())) {
    bundle.Set("total", fhir::Value::Number(std::to_string(offset + found.size())));
  }
  fhir::Value& links = bundle.Set("link", fhir::Value::Array());
  links.Append(Link("self", PageLink(base, *search, offset)));
  if (offset > 0) {
    links.Append(Link("previous", PageLink(base, *search, offset > limit ? offset - limit : 0)));
  }
  if (more) links.Append(Link("next", PageLink(base, *search, offset + limit)));
  fhir::Value& entries = bundle.Set("entry", fhir::Value::Array());
  for (const store::InstitutionRecord& r : found) {
    fhir::Value entry = fhir::Value::Object();
    entry.Set("fullUrl", fhir::Value::String(base + "/Organization/" + r.code));
    entry.Set("resource", OrganizationFromRecord(r));
    entry.Set("search", fhir::Value::Object()).Set("mode", fhir::Value::String("match"));
    entries.Append(std::move(entry));
  }
  if (!search->ignored.empty()) {
    fhir::Value outcome = fhir::Value::Object();
    outcome.Set("resourceType", fhir::Value::String("OperationOutcome"));
    fhir::Value& issues = outcome.Set("issue", fhir::Value::Array());
    for (const std::string& name : search->ignored) {
      fhir::Value issue = fhir::Value::Object();
      issue.Set("severity", fhir::Value::String("warning"));
      issue.Set("code", fhir::Value::String("not-supported"));
      issue.Set("diagnostics",
                fhir::Value::String("Unknown search parameter '" + name + "' was ignored"));
      issue.Set("expression", fhir::Value::Array()).Append(fhir::Value::String(name));
      issues.Append(std::move(issue));
    }
    fhir::Value entry = fhir::Value::Object();
    entry.Set("resource", std::move(outcome));
    entry.Set("search", fhir::Value::Object()).Set("mode", fhir::Value::String("outcome"));
    entries.Append(std::move(entry));
  }
  if (entries.items().empty()) bundle.Erase("entry");
  return JsonResponse(200, bundle);
}

Result<Response> ReadOrganization(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  std::string code(request.Param("id"));
  store::AuditEvent event =
      AuditFor(ctx, *caller, access::Action::kSearchDirectory, "", "Organization/" + code);
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kSearchDirectory, {}, event));
  Result<store::InstitutionRecord> record = ctx.store.ReadInstitution(code);
  if (!record.ok()) return record.take_status();
  return JsonResponse(200, OrganizationFromRecord(*record));
}

Result<Response> PutOrganization(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  std::string code(request.Param("id"));
  store::AuditEvent event =
      AuditFor(ctx, *caller, access::Action::kManageDirectory, "", "Organization/" + code);
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kManageDirectory, {}, event));
  CLINSHUB_RETURN_IF_ERROR(CheckCode(code));
  Result<fhir::Value> resource = ParseBodyResource(request, "Organization");
  if (!resource.ok()) return resource.take_status();
  Result<store::InstitutionRecord> record = RecordFromOrganization(*resource, code);
  if (!record.ok()) return record.take_status();

  Result<store::InstitutionRecord> before = ctx.store.ReadInstitution(code);
  if (!before.ok() && before.status().code() != ErrorCode::kNotFound) {
    return before.take_status();
  }
  const bool created = !before.ok();
  event.http_status = created ? 201 : 200;
  store::WriteBatch batch;
  batch.ops.push_back(store::PutInstitution{std::move(record).value()});
  batch.ops.push_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  Result<store::InstitutionRecord> stored = ctx.store.ReadInstitution(code);
  if (!stored.ok()) return stored.take_status();
  Response response = JsonResponse(created ? 201 : 200, OrganizationFromRecord(*stored));
  if (created) {
    response.headers.Set("Location", BaseUrl(ctx.config, request) + "/Organization/" + code);
  }
  return response;
}

}  // namespace clinshub::api

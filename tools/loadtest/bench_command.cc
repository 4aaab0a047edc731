#include "loadtest/bench_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "access/pki/certificate_authority.h"
#include "fhir/json.h"
#include "generator/generator.h"
#include "loadtest/https_client.h"
#include "loadtest/latency.h"
#include "loadtest/spawned_server.h"

namespace clinshub::loadtest {
namespace {

namespace gen = generator;
using SteadyClock = std::chrono::steady_clock;
using fhir::Value;

constexpr size_t kNone = static_cast<size_t>(-1);
// Persons per $load-roster request: ~400 bytes a line keeps each body far under the 10 MB limit.
constexpr size_t kRosterChunk = 10000;

// ---- generated data ----

struct Unit {
  size_t institution = 0;
  size_t addressee = kNone;  // referral letters: the receiving institution
  size_t person = 0;
  gen::SubmissionKind kind = gen::SubmissionKind::kCondition;
  uint32_t resources = 0;  // Bundle.entry count
  std::string json;          // empty when not kept (Generate)
  size_t json_bytes = 0;     // its size either way
  std::string resubmission;  // a changed version of the unit for the mixed workload, or ""
  std::string bundle_id;     // from the Location of a successful POST /Bundle
};

struct Data {
  gen::Population population;
  std::vector<Unit> units;
  uint64_t json_bytes = 0;
  uint64_t resources = 0;
  double seconds = 0;
};

uint32_t EntryCount(const Value& bundle) {
  const Value* entry = bundle.Find("entry");
  return entry != nullptr && entry->is_array() ? static_cast<uint32_t>(entry->items().size()) : 0;
}

// Every person's submissions, serialised, generated on all cores (the generator is pure).
// With `keep_json` false (a population loaded earlier: --assume-loaded) the bundles are
// generated and measured but not kept: at 100,000 persons they are 13.5 GB, which the hub's
// page cache needs more.
Data Generate(const BenchOptions& o, bool resubmissions, bool keep_json) {
  const auto start = SteadyClock::now();
  gen::GeneratorOptions options;
  options.seed = o.seed;
  options.persons = o.persons;
  options.institutions = o.institutions;
  gen::Generator generator(options);
  Data data;
  data.population = generator.population();
  std::map<std::string, size_t> institution_index;
  for (size_t i = 0; i < data.population.institutions.size(); ++i) {
    institution_index[data.population.institutions[i].code] = i;
  }
  std::vector<std::vector<Unit>> per_person(data.population.persons.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t p; (p = next.fetch_add(1)) < per_person.size();) {
      const gen::Person& person = data.population.persons[p];
      for (const gen::GeneratedSubmission& s : generator.SubmissionsFor(person)) {
        Unit u;
        u.institution = institution_index.at(s.institution_code);
        if (!s.addressee_code.empty()) u.addressee = institution_index.at(s.addressee_code);
        u.person = p;
        u.kind = s.kind;
        u.resources = EntryCount(s.bundle);
        u.json = fhir::WriteJson(s.bundle);
        u.json_bytes = u.json.size();
        if (!keep_json) std::string().swap(u.json);
        // Every tenth unit also gets a changed resend, as clinshub-gen --resubmit-percent 10.
        if (resubmissions && per_person[p].size() % 10 == 0) {
          u.resubmission = fhir::WriteJson(generator.Resubmission(person, s, 1).bundle);
        }
        per_person[p].push_back(std::move(u));
      }
    }
  };
  std::vector<std::thread> threads;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < cores; ++t) threads.emplace_back(work);
  for (std::thread& t : threads) t.join();
  for (auto& units : per_person) {
    for (Unit& u : units) {
      data.json_bytes += u.json_bytes;
      data.resources += u.resources;
      data.units.push_back(std::move(u));
    }
  }
  data.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  return data;
}

// The directory and roster as clinshub-gen writes institutions.ndjson and population.ndjson.
std::string DirectoryNdjson(const gen::Population& population) {
  std::string out;
  for (const gen::Institution& i : population.institutions) {
    Value o = Value::Object();
    o.Set("code", Value::String(i.code));
    o.Set("name", Value::String(i.name));
    o.Set("kana", Value::String(i.kana));
    o.Set("kind", Value::String(std::string(gen::InstitutionKindName(i.kind))));
    o.Set("postcode", Value::String(i.postcode));
    o.Set("prefecture", Value::String(i.prefecture));
    o.Set("city", Value::String(i.city));
    o.Set("address", Value::String(i.address));
    o.Set("phone", Value::String(i.phone));
    o.Set("emergencyPermission", Value::Bool(i.emergency_permission));
    out += fhir::WriteJson(o) + "\n";
  }
  return out;
}

std::string RosterLine(const gen::Person& p) {
  Value o = Value::Object();
  o.Set("person", Value::Number(std::to_string(p.index)));
  Value ids = Value::Array();
  for (const gen::HeldIdentifier& h : p.identifiers) {
    Value id = Value::Object();
    id.Set("system", Value::String(h.system));
    id.Set("value", Value::String(h.value));
    id.Set("from", Value::String(h.from));
    if (!h.to.empty()) id.Set("to", Value::String(h.to));
    ids.Append(std::move(id));
  }
  o.Set("identifiers", std::move(ids));
  return fhir::WriteJson(o) + "\n";
}

// A card-reader consent for the person, as docs/api.md's POST /Consent shows it (the reading
// institution is the caller, never named in the body).
std::string ConsentJson(const gen::Person& person) {
  auto coded = [](const char* system, const char* code) {
    Value coding = Value::Object();
    coding.Set("system", Value::String(system));
    coding.Set("code", Value::String(code));
    Value codings = Value::Array();
    codings.Append(std::move(coding));
    Value codeable = Value::Object();
    codeable.Set("coding", std::move(codings));
    return codeable;
  };
  Value identifier = Value::Object();
  identifier.Set("system", Value::String(person.current().system));
  identifier.Set("value", Value::String(person.current().value));
  Value patient = Value::Object();
  patient.Set("identifier", std::move(identifier));
  Value categories = Value::Array();
  categories.Append(coded("http://loinc.org", "59284-0"));
  Value c = Value::Object();
  c.Set("resourceType", Value::String("Consent"));
  c.Set("status", Value::String("active"));
  c.Set("scope", coded("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"));
  c.Set("category", std::move(categories));
  c.Set("policyRule", coded("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN"));
  c.Set("patient", std::move(patient));
  return fhir::WriteJson(c);
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string PatientParameter(const gen::Person& person) {
  return PercentEncode(person.current().system + "|" + person.current().value);
}

// ---- identities and connections ----

struct Identities {
  Endpoint endpoint;
  bool accept_gzip = true;
  std::shared_ptr<ClientContext> op;
  std::vector<std::shared_ptr<ClientContext>> institutions;  // by population index
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// From the hub CA (--pki): one operator certificate and one per institution, in memory.
Result<Identities> IssueIdentities(const std::string& pki_dir, const gen::Population& population) {
  SystemClock clock;
  auto ca = access::pki::CertificateAuthority::Load(pki_dir, clock);
  if (!ca.ok()) return ca.take_status();
  const std::string ca_pem = (*ca)->ca_certificate_pem();
  Identities ids;
  auto op = (*ca)->IssueRole("operator", "bench", 2);
  if (!op.ok()) return op.take_status();
  auto op_context = ClientContext::Create({ca_pem, op->certificate_pem, op->private_key_pem});
  if (!op_context.ok()) return op_context.take_status();
  ids.op = *op_context;
  for (const gen::Institution& i : population.institutions) {
    access::pki::InstitutionCertificateRequest request;
    request.institution_code = i.code;
    request.institution_name = i.name;
    request.days = 2;
    auto issued = (*ca)->IssueInstitution(request);
    if (!issued.ok()) return issued.take_status();
    auto context =
        ClientContext::Create({ca_pem, issued->certificate_pem, issued->private_key_pem});
    if (!context.ok()) return context.take_status();
    ids.institutions.push_back(*context);
  }
  return ids;
}

// From files: --cacert, --cert/--key (operator) and --client-certs DIR/<code>/{cert,key}.pem.
Result<Identities> LoadIdentities(const BenchOptions& o, const gen::Population& population) {
  Identities ids;
  auto load = [&](const std::string& cert, const std::string& key)
      -> Result<std::shared_ptr<ClientContext>> {
    auto ca = ReadFile(o.cacert);
    if (!ca.ok()) return ca.take_status();
    auto c = ReadFile(cert);
    if (!c.ok()) return c.take_status();
    auto k = ReadFile(key);
    if (!k.ok()) return k.take_status();
    return ClientContext::Create({*ca, *c, *k});
  };
  auto op = load(o.cert, o.key);
  if (!op.ok()) return op.take_status();
  ids.op = *op;
  for (const gen::Institution& i : population.institutions) {
    const std::string dir = o.client_certs + "/" + i.code;
    auto context = load(dir + "/cert.pem", dir + "/key.pem");
    if (!context.ok()) return context.take_status();
    ids.institutions.push_back(*context);
  }
  return ids;
}

// One worker's keep-alive connections: the operator's and one per institution it acts as.
class Connections {
 public:
  explicit Connections(const Identities& ids) : ids_(ids) {}
  HttpsConnection& Operator() { return Get(kNone, ids_.op); }
  HttpsConnection& As(size_t institution) {
    return Get(institution, ids_.institutions[institution]);
  }

 private:
  HttpsConnection& Get(size_t key, const std::shared_ptr<ClientContext>& context) {
    auto& c = open_[key];
    if (!c) c = std::make_unique<HttpsConnection>(ids_.endpoint, context, ids_.accept_gzip);
    return *c;
  }
  const Identities& ids_;
  std::map<size_t, std::unique_ptr<HttpsConnection>> open_;
};

// ---- running workloads ----

struct Progress {
  std::string name;
  std::string unit;
  uint64_t total = 0;   // known amount of work, or 0 when bounded by time
  double seconds = 0;   // time bound
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> resources{0};
  SteadyClock::time_point start = SteadyClock::now();
  double Elapsed() const {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
  }
};

// Prints one progress line a second on stderr until destroyed.
class ProgressPrinter {
 public:
  ProgressPrinter(Progress& progress, bool enabled) : progress_(progress) {
    if (enabled) thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressPrinter() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    const bool tty = ::isatty(STDERR_FILENO);
    uint64_t last_done = 0, last_resources = 0;
    double last_t = 0;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
      const double t = progress_.Elapsed();
      const uint64_t done = progress_.done.load(), res = progress_.resources.load();
      const double dt = std::max(1e-6, t - last_t);
      const double rate = static_cast<double>(done - last_done) / dt;
      char eta[32] = "";
      if (progress_.total > 0 && done > 0) {
        std::snprintf(eta, sizeof eta, "ETA %.0fs",
                      t / static_cast<double>(done) * static_cast<double>(progress_.total - done));
      } else if (progress_.seconds > 0) {
        std::snprintf(eta, sizeof eta, "ETA %.0fs", std::max(0.0, progress_.seconds - t));
      }
      char of[32] = "";
      if (progress_.total > 0) {
        std::snprintf(of, sizeof of, "/%llu", static_cast<unsigned long long>(progress_.total));
      }
      char res_rate[48] = "";
      if (res > 0) {
        std::snprintf(res_rate, sizeof res_rate, "  %.0f resources/s",
                      static_cast<double>(res - last_resources) / dt);
      }
      std::fprintf(stderr, "%s[%s] %5.1fs  %llu%s %s  %.0f/s%s  errors %llu  %s%s",
                   tty ? "\r\033[K" : "", progress_.name.c_str(), t,
                   static_cast<unsigned long long>(done), of, progress_.unit.c_str(), rate,
                   res_rate, static_cast<unsigned long long>(progress_.errors.load()), eta,
                   tty ? "" : "\n");
      std::fflush(stderr);
      last_done = done;
      last_resources = res;
      last_t = t;
    }
    if (tty) std::fprintf(stderr, "\r\033[K");
  }

  Progress& progress_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// CPU seconds (user + system) used so far by this process, and by `pid` (from /proc) if > 0.
double OwnCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double ProcessCpuSeconds(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field && i <= 15; ++i) {
    if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct WorkloadResult {
  std::string name;
  std::string unit;
  std::string skipped;  // why it did not run, or ""
  double seconds = 0;
  double client_cpu = 0;  // CPU seconds this tool used during the workload
  double server_cpu = -1;  // and the spawned server (-1: not known)
  Tally tally;
  Percentiles latency;
};

// Sends one request, timing it, and tallies the outcome. True when the status is one of `ok`.
bool Timed(HttpsConnection& connection, Tally& tally, Progress& progress, std::string_view method,
           const std::string& target, const Headers& headers, std::string_view body,
           std::initializer_list<int> ok, uint32_t resources = 0, HttpReply* out = nullptr) {
  const auto start = SteadyClock::now();
  Result<HttpReply> reply = connection.Send(method, target, headers, body);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
  tally.latency_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX)));
  const int status = reply.ok() ? reply->status : 0;
  ++tally.statuses[status];
  const bool good = std::find(ok.begin(), ok.end(), status) != ok.end();
  if (good) {
    ++tally.ok;
    tally.resources += resources;
    tally.bytes += body.size();
    tally.wire_bytes_in += reply->wire_body_bytes;
    tally.bytes_in += reply->body.size();
    progress.resources += resources;
  } else {
    ++tally.errors;
    ++progress.errors;
    if (tally.samples.size() < 5) {
      std::string what = reply.ok() ? std::to_string(status) + " " + reply->body.substr(0, 300)
                                    : reply.status().message();
      tally.samples.push_back(std::string(method) + " " + target + ": " + what);
    }
  }
  ++progress.done;
  if (out != nullptr && reply.ok()) *out = std::move(*reply);
  return good;
}

// Runs `step(worker, connections, tally, progress)` on `n` worker threads until it returns
// false or `seconds` (if > 0) have passed, with live progress; CPU use of this process and of
// `server_pid` (if > 0) is measured around it.
using Step = std::function<bool(int, Connections&, Tally&, Progress&)>;
WorkloadResult RunWorkers(const std::string& name, const std::string& unit, uint64_t total,
                          double seconds, int n, const Identities& ids, bool quiet,
                          pid_t server_pid, const Step& step) {
  const double client_cpu = OwnCpuSeconds();
  const double server_cpu = ProcessCpuSeconds(server_pid);
  Progress progress;
  progress.name = name;
  progress.unit = unit;
  progress.total = total;
  progress.seconds = seconds;
  std::vector<Tally> tallies(static_cast<size_t>(n));
  {
    ProgressPrinter printer(progress, !quiet);
    const auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                   std::chrono::duration<double>(seconds));
    std::vector<std::thread> threads;
    for (int w = 0; w < n; ++w) {
      threads.emplace_back([&, w] {
        Connections connections(ids);
        Tally& tally = tallies[static_cast<size_t>(w)];
        while (seconds <= 0 || SteadyClock::now() < deadline) {
          if (!step(w, connections, tally, progress)) break;
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  WorkloadResult result;
  result.name = name;
  result.unit = unit;
  result.seconds = progress.Elapsed();
  result.client_cpu = OwnCpuSeconds() - client_cpu;
  if (server_pid > 0) result.server_cpu = ProcessCpuSeconds(server_pid) - server_cpu;
  for (Tally& t : tallies) result.tally.Merge(std::move(t));
  result.latency = ComputePercentiles(result.tally.latency_us);
  return result;
}

WorkloadResult Skipped(const std::string& name, const std::string& why) {
  WorkloadResult r;
  r.name = name;
  r.skipped = why;
  return r;
}

// The institutions worker `w` of `n` acts as: a share of them when there are more institutions
// than workers, else one (several workers then share an institution).
std::vector<size_t> HomeInstitutions(int w, int n, size_t institutions) {
  std::vector<size_t> out;
  if (static_cast<size_t>(n) <= institutions) {
    for (size_t i = static_cast<size_t>(w); i < institutions; i += static_cast<size_t>(n)) {
      out.push_back(i);
    }
  } else {
    out.push_back(static_cast<size_t>(w) % institutions);
  }
  return out;
}

// SplitMix64: a small deterministic per-worker random source.
struct Rng {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
};

// What the server routes, from its CapabilityStatement: "Type:interaction" and "Type$op".
std::set<std::string> Capabilities(HttpsConnection& op) {
  std::set<std::string> caps;
  Result<HttpReply> reply = op.Send("GET", "/metadata");
  if (!reply.ok() || reply->status != 200) return caps;
  Result<Value> cs = fhir::ParseJson(reply->body);
  if (!cs.ok()) return caps;
  const Value* rest = cs->Find("rest");
  if (rest == nullptr || !rest->is_array()) return caps;
  for (const Value& r : rest->items()) {
    const Value* resources = r.Find("resource");
    if (resources == nullptr || !resources->is_array()) continue;
    for (const Value& res : resources->items()) {
      const std::string type(res.StringAt("type"));
      if (const Value* list = res.Find("interaction"); list != nullptr && list->is_array()) {
        for (const Value& i : list->items()) caps.insert(type + ":" + std::string(i.StringAt("code")));
      }
      if (const Value* list = res.Find("operation"); list != nullptr && list->is_array()) {
        for (const Value& i : list->items()) caps.insert(type + "$" + std::string(i.StringAt("name")));
      }
    }
  }
  return caps;
}

// Whether the server routes `GET target` at all (an operation the CapabilityStatement may not
// list): anything but 404/405 — a 400 for missing parameters, a 403 — means it is there.
bool Routed(HttpsConnection& op, const std::string& target) {
  Result<HttpReply> reply = op.Send("GET", target);
  return reply.ok() && reply->status != 404 && reply->status != 405;
}

// ---- output ----

std::string Fixed(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

struct ServerFacts {
  uint64_t rss = 0, peak_rss = 0, disk = 0;
  std::string rss_source;  // "/proc" or "/metrics" or ""
  double startup_seconds = -1;  // --spawn: from exec to its "listening" line
};

Value ToJson(const BenchOptions& o, const Data& data, const std::vector<WorkloadResult>& results,
             const ServerFacts& server, uint64_t stored_resources, uint64_t errors) {
  auto num = [](double v, int digits = 3) { return Value::Number(Fixed(v, digits)); };
  auto integer = [](uint64_t v) { return Value::Number(std::to_string(v)); };
  Value out = Value::Object();
  out.Set("tool", Value::String("clinshub bench"));
  Value options = Value::Object();
  options.Set("url", Value::String(o.spawn ? "spawned" : o.url));
  options.Set("seed", integer(o.seed));
  options.Set("persons", integer(static_cast<uint64_t>(o.persons)));
  options.Set("institutions", integer(static_cast<uint64_t>(o.institutions)));
  options.Set("connections", integer(static_cast<uint64_t>(o.connections)));
  options.Set("duration", num(o.duration));
  out.Set("options", std::move(options));
  Value generated = Value::Object();
  generated.Set("bundles", integer(data.units.size()));
  generated.Set("resources", integer(data.resources));
  generated.Set("json_bytes", integer(data.json_bytes));
  generated.Set("seconds", num(data.seconds));
  out.Set("generated", std::move(generated));
  Value workloads = Value::Array();
  for (const WorkloadResult& r : results) {
    Value w = Value::Object();
    w.Set("name", Value::String(r.name));
    if (!r.skipped.empty()) {
      w.Set("skipped", Value::String(r.skipped));
      workloads.Append(std::move(w));
      continue;
    }
    const double secs = std::max(r.seconds, 1e-9);
    w.Set("unit", Value::String(r.unit));
    w.Set("ok", integer(r.tally.ok));
    w.Set("errors", integer(r.tally.errors));
    w.Set("seconds", num(r.seconds));
    w.Set("units_per_second", num(static_cast<double>(r.tally.ok) / secs, 1));
    w.Set("resources_per_second", num(static_cast<double>(r.tally.resources) / secs, 1));
    Value latency = Value::Object();
    latency.Set("p50", num(r.latency.p50));
    latency.Set("p90", num(r.latency.p90));
    latency.Set("p99", num(r.latency.p99));
    latency.Set("max", num(r.latency.max));
    w.Set("latency_ms", std::move(latency));
    Value statuses = Value::Object();
    for (const auto& [status, n] : r.tally.statuses) {
      statuses.Set(status == 0 ? "transport" : std::to_string(status), integer(n));
    }
    w.Set("statuses", std::move(statuses));
    w.Set("response_body_bytes", integer(r.tally.bytes_in));
    w.Set("response_wire_bytes", integer(r.tally.wire_bytes_in));
    w.Set("client_cpu_seconds", num(r.client_cpu));
    if (r.server_cpu >= 0) w.Set("server_cpu_seconds", num(r.server_cpu));
    workloads.Append(std::move(w));
  }
  out.Set("workloads", std::move(workloads));
  Value s = Value::Object();
  if (!server.rss_source.empty()) {
    s.Set("rss_bytes", integer(server.rss));
    if (server.peak_rss > 0) s.Set("peak_rss_bytes", integer(server.peak_rss));
    s.Set("rss_source", Value::String(server.rss_source));
  }
  if (server.startup_seconds >= 0) s.Set("startup_seconds", num(server.startup_seconds));
  if (server.disk > 0) {
    s.Set("disk_bytes", integer(server.disk));
    s.Set("stored_resources", integer(stored_resources));
    if (stored_resources > 0) {
      s.Set("disk_bytes_per_resource",
            num(static_cast<double>(server.disk) / static_cast<double>(stored_resources), 1));
    }
    if (data.json_bytes > 0) {
      s.Set("disk_to_json_ratio",
            num(static_cast<double>(server.disk) / static_cast<double>(data.json_bytes), 2));
    }
  }
  out.Set("server", std::move(s));
  out.Set("errors", integer(errors));
  return out;
}

void PrintTable(const Data& data, const std::vector<WorkloadResult>& results,
                const ServerFacts& server, uint64_t stored_resources) {
  std::printf("\n%-14s %9s %8s %10s %12s %8s %8s %8s %8s %9s %11s  %s\n", "workload", "ok",
              "seconds", "units/s", "resources/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
              "cpu c/s", "KB in", "errors");
  for (const WorkloadResult& r : results) {
    if (!r.skipped.empty()) {
      std::printf("%-14s skipped: %s\n", r.name.c_str(), r.skipped.c_str());
      continue;
    }
    const double secs = std::max(r.seconds, 1e-9);
    std::string errors;
    for (const auto& [status, n] : r.tally.statuses) {
      if (status >= 200 && status < 300) continue;
      errors += (errors.empty() ? "" : " ") + (status == 0 ? "transport" : std::to_string(status)) +
                "×" + std::to_string(n);
    }
    if (errors.empty()) errors = r.tally.errors == 0 ? "0" : std::to_string(r.tally.errors);
    const std::string resources =
        r.tally.resources == 0 ? "-" : Fixed(static_cast<double>(r.tally.resources) / secs, 0);
    const std::string cpu = Fixed(r.client_cpu, 1) + "/" + (r.server_cpu < 0 ? "?" : Fixed(r.server_cpu, 1));
    // Response body per request: on the wire / decoded (they differ when gzip-coded).
    const double n = static_cast<double>(std::max<uint64_t>(r.tally.ok, 1));
    const std::string kb_in = Fixed(static_cast<double>(r.tally.wire_bytes_in) / n / 1e3, 1) +
                              "/" + Fixed(static_cast<double>(r.tally.bytes_in) / n / 1e3, 1);
    std::printf("%-14s %9llu %8.2f %10.0f %12s %8.2f %8.2f %8.2f %8.2f %9s %11s  %s\n",
                r.name.c_str(), static_cast<unsigned long long>(r.tally.ok), r.seconds,
                static_cast<double>(r.tally.ok) / secs, resources.c_str(), r.latency.p50,
                r.latency.p90, r.latency.p99, r.latency.max, cpu.c_str(), kb_in.c_str(),
                errors.c_str());
  }
  std::printf("(cpu c/s: CPU seconds used by this tool / by the spawned server; KB in: response "
              "body per request, as received / decoded)\n");
  std::printf("\ngenerated: %zu bundles, %llu resources, %.1f MB JSON in %.2f s\n",
              data.units.size(), static_cast<unsigned long long>(data.resources),
              static_cast<double>(data.json_bytes) / 1e6, data.seconds);
  if (!server.rss_source.empty()) {
    std::printf("server RSS: %.1f MB", static_cast<double>(server.rss) / 1e6);
    if (server.peak_rss > 0) std::printf(" (peak %.1f MB)", static_cast<double>(server.peak_rss) / 1e6);
    std::printf(" from %s\n", server.rss_source.c_str());
  } else {
    std::printf("server RSS: unknown (not spawned; /metrics has no process_resident_memory_bytes)\n");
  }
  if (server.startup_seconds >= 0) {
    std::printf("server start-up: %.2f s (exec to listening)\n", server.startup_seconds);
  }
  if (server.disk > 0) {
    std::printf("disk: %.1f MB for %llu stored resources = %.0f bytes/resource (%.2f× the "
                "submitted JSON)\n",
                static_cast<double>(server.disk) / 1e6,
                static_cast<unsigned long long>(stored_resources),
                stored_resources ? static_cast<double>(server.disk) / static_cast<double>(stored_resources) : 0.0,
                data.json_bytes ? static_cast<double>(server.disk) / static_cast<double>(data.json_bytes) : 0.0);
  }
}

uint64_t MetricsRss(HttpsConnection& op) {
  Result<HttpReply> reply = op.Send("GET", "/metrics");
  if (!reply.ok() || reply->status != 200) return 0;
  constexpr std::string_view kName = "\nprocess_resident_memory_bytes ";
  const size_t at = reply->body.find(kName);
  if (at == std::string::npos) return 0;
  return static_cast<uint64_t>(std::strtod(reply->body.c_str() + at + kName.size(), nullptr));
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "clinshub bench: %s\n", what.c_str());
  return 1;
}

bool Wants(const BenchOptions& o, const std::string& workload) {
  return std::find(o.workloads.begin(), o.workloads.end(), workload) != o.workloads.end();
}

}  // namespace

int RunBench(const BenchOptions& o) {
  if (o.spawn == !o.url.empty()) return Fail("give exactly one of --url and --spawn");
  if (o.connections < 1) return Fail("-c must be at least 1");
  for (const std::string& w : o.workloads) {
    static const std::set<std::string> kKnown = {"ingest", "read",  "summary",
                                                 "search", "inbox", "mixed"};
    if (!kKnown.contains(w)) return Fail("unknown workload " + w);
  }
  auto log = [&](const char* fmt, auto... args) {
    if (o.quiet) return;
    std::fprintf(stderr, fmt, args...);
    std::fputc('\n', stderr);
  };

  // The target.
  std::unique_ptr<SpawnedServer> server;
  pid_t server_pid = -1;
  std::string work_dir, data_dir, pki_dir = o.pki_dir, url = o.url;
  double startup_seconds = -1;
  if (!o.data_dir.empty() && !o.spawn) return Fail("--data needs --spawn");
  if (o.spawn && !o.data_dir.empty()) {
    data_dir = o.data_dir;  // an earlier run's: never removed here
  } else if (o.spawn) {
    std::string base = o.work_dir.empty() ? std::filesystem::temp_directory_path().string() : o.work_dir;
    std::string pattern = base + "/clinshub-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return Fail("cannot create a directory in " + base);
    work_dir = pattern;
    data_dir = work_dir + "/data";
  }
  if (o.spawn) {
    std::string binary = o.server_binary;
    if (binary.empty()) {
      std::error_code ec;
      binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    }
    const auto spawn_start = SteadyClock::now();
    auto started = SpawnedServer::Start(binary, data_dir, o.server_args);
    startup_seconds = std::chrono::duration<double>(SteadyClock::now() - spawn_start).count();
    if (!started.ok()) return Fail(started.status().message());
    server = std::move(*started);
    url = server->url();
    pki_dir = data_dir + "/pki";
    server_pid = server->pid();
    log("spawned clinshub serve (pid %d) on %s, data in %s", static_cast<int>(server->pid()),
        url.c_str(), data_dir.c_str());
  }
  auto cleanup = [&] {
    if (server) server->Stop();
    if (!work_dir.empty() && !o.keep_data) {
      std::error_code ec;
      std::filesystem::remove_all(work_dir, ec);
    }
  };
  auto endpoint = ParseHttpsUrl(url);
  if (!endpoint.ok()) return cleanup(), Fail(endpoint.status().message());

  // The data.
  const bool mixed = Wants(o, "mixed");
  log("generating %d persons (seed %llu)…", o.persons, static_cast<unsigned long long>(o.seed));
  Data data = Generate(o, mixed && !o.assume_loaded, !o.assume_loaded);
  log("generated %zu bundles (%llu resources, %.1f MB) in %.2f s", data.units.size(),
      static_cast<unsigned long long>(data.resources), static_cast<double>(data.json_bytes) / 1e6,
      data.seconds);
  const size_t n_inst = data.population.institutions.size();

  // The identities.
  Result<Identities> ids = !pki_dir.empty() ? IssueIdentities(pki_dir, data.population)
                                            : LoadIdentities(o, data.population);
  if (!ids.ok()) return cleanup(), Fail("certificates: " + ids.status().message());
  ids->endpoint = *endpoint;
  ids->accept_gzip = o.accept_gzip;

  std::vector<WorkloadResult> results;
  Connections setup(*ids);
  const std::set<std::string> caps = Capabilities(setup.Operator());
  if (caps.empty()) return cleanup(), Fail("GET /metadata failed: is " + url + " a clinshub hub?");

  // Directory and roster, through the operator API (already there with --assume-loaded).
  if (!o.assume_loaded) {
    const std::string body = DirectoryNdjson(data.population);
    const Headers ndjson = {{"Content-Type", "application/x-ndjson"}};
    results.push_back(RunWorkers(
        "load-directory", "institutions", 1, 0, 1, *ids, true, server_pid,
        [&](int, Connections& c, Tally& t, Progress& p) {
          Timed(c.Operator(), t, p, "POST", "/$load-directory", ndjson, body, {200});
          return false;
        }));
    std::vector<std::string> chunks;
    for (size_t at = 0; at < data.population.persons.size(); at += kRosterChunk) {
      std::string chunk;
      for (size_t i = at; i < std::min(data.population.persons.size(), at + kRosterChunk); ++i) {
        chunk += RosterLine(data.population.persons[i]);
      }
      chunks.push_back(std::move(chunk));
    }
    std::atomic<size_t> next{0};
    results.push_back(RunWorkers(
        "load-roster", "requests", chunks.size(), 0, 1, *ids, o.quiet, server_pid,
        [&](int, Connections& c, Tally& t, Progress& p) {
          const size_t i = next.fetch_add(1);
          if (i >= chunks.size()) return false;
          Timed(c.Operator(), t, p, "POST", "/$load-roster", ndjson, chunks[i], {200});
          return true;
        }));
  }

  // Ingest: every bundle as its sender, institutions spread over the workers (a worker that
  // runs out takes over another institution's remaining bundles).
  std::vector<std::vector<size_t>> by_institution(n_inst);
  for (size_t u = 0; u < data.units.size(); ++u) by_institution[data.units[u].institution].push_back(u);
  if (Wants(o, "ingest") && !o.assume_loaded) {
    std::unique_ptr<std::atomic<size_t>[]> next(new std::atomic<size_t>[n_inst]);
    for (size_t i = 0; i < n_inst; ++i) next[i] = 0;
    const Headers headers = {{"Content-Type", "application/fhir+json"}};
    const Headers referral = {{"Content-Type", "application/fhir+json"},
                              {"X-Referral-Consent", "viewable"}};
    std::vector<size_t> cursor(static_cast<size_t>(o.connections), 0);
    results.push_back(RunWorkers(
        "ingest", "bundles", data.units.size(), 0, o.connections, *ids, o.quiet, server_pid,
        [&](int w, Connections& c, Tally& t, Progress& p) {
          const std::vector<size_t> home = HomeInstitutions(w, o.connections, n_inst);
          size_t& at = cursor[static_cast<size_t>(w)];
          auto take = [&](size_t inst) {
            const size_t k = next[inst].fetch_add(1);
            return k < by_institution[inst].size() ? by_institution[inst][k] : kNone;
          };
          size_t unit = kNone;
          for (size_t tries = 0; unit == kNone && tries < home.size(); ++tries) {
            unit = take(home[at++ % home.size()]);
          }
          for (size_t inst = 0; unit == kNone && inst < n_inst; ++inst) unit = take(inst);
          if (unit == kNone) return false;
          Unit& u = data.units[unit];
          HttpReply reply;
          const bool ok = Timed(c.As(u.institution), t, p, "POST", "/Bundle",
                                u.kind == gen::SubmissionKind::kReferral ? referral : headers,
                                u.json, {200, 201}, u.resources, &reply);
          if (ok) {
            const size_t b = reply.location.find("/Bundle/");
            if (b != std::string::npos) {
              const size_t start = b + 8;
              u.bundle_id = reply.location.substr(start, reply.location.find('/', start) - start);
            }
          }
          return true;
        }));
  }
  uint64_t stored_resources = 0;
  std::vector<std::vector<size_t>> stored(n_inst);  // stored units by sender
  std::vector<std::vector<size_t>> persons_of(n_inst);  // persons with data at an institution
  std::vector<size_t> addressees;
  {
    std::set<size_t> addressee_set;
    std::vector<std::set<size_t>> person_sets(n_inst);
    for (size_t u = 0; u < data.units.size(); ++u) {
      const Unit& unit = data.units[u];
      // With --assume-loaded every unit is taken as stored (its Bundle id unknown).
      if (unit.bundle_id.empty() && !o.assume_loaded) continue;
      stored_resources += unit.resources;
      stored[unit.institution].push_back(u);
      person_sets[unit.institution].insert(unit.person);
      if (unit.addressee != kNone) addressee_set.insert(unit.addressee);
    }
    for (size_t i = 0; i < n_inst; ++i) persons_of[i].assign(person_sets[i].begin(), person_sets[i].end());
    addressees.assign(addressee_set.begin(), addressee_set.end());
  }

  // Reads. Each worker reads as its home institution(s).
  auto read_step = [&](int w, Connections& c, Tally& t, Progress& p, Rng& rng) {
    const std::vector<size_t> home = HomeInstitutions(w, o.connections, n_inst);
    size_t inst = home[rng.Below(home.size())];
    if (stored[inst].empty()) inst = rng.Below(n_inst);
    if (stored[inst].empty()) return;
    const Unit& u = data.units[stored[inst][rng.Below(stored[inst].size())]];
    Timed(c.As(u.institution), t, p, "GET", "/Bundle/" + u.bundle_id, {}, {}, {200});
  };
  const bool any_stored = stored_resources > 0;
  std::vector<std::function<void(int, Connections&, Tally&, Progress&, Rng&)>> mix;
  std::vector<Rng> rngs;
  for (int w = 0; w < o.connections; ++w) rngs.push_back(Rng{o.seed * 1000003 + static_cast<uint64_t>(w)});
  auto run_timed = [&](const std::string& name, const std::string& unit, auto step) {
    results.push_back(RunWorkers(name, unit, 0, o.duration, o.connections, *ids, o.quiet, server_pid,
                                 [&](int w, Connections& c, Tally& t, Progress& p) {
                                   step(w, c, t, p, rngs[static_cast<size_t>(w)]);
                                   return true;
                                 }));
  };

  if (Wants(o, "read") || mixed) {
    if (!any_stored) {
      if (Wants(o, "read")) results.push_back(Skipped("read", "nothing was ingested"));
    } else if (o.assume_loaded) {
      if (Wants(o, "read")) {
        results.push_back(Skipped("read", "--assume-loaded: the Bundle ids are not known"));
      }
    } else {
      mix.push_back(read_step);
      if (Wants(o, "read")) run_timed("read", "bundles", read_step);
    }
  }

  // Consents for the summary and search workloads: each worker's first home institution
  // records a consent for up to --readable-persons persons it has data for... or any person.
  const bool has_summary = caps.contains("Consent:create") &&
                           (caps.contains("Patient$summary") ||
                            Routed(setup.Operator(), "/Patient/$summary"));
  const std::vector<std::string> search_types = [&] {
    std::vector<std::string> out;
    for (const char* type : {"Condition", "AllergyIntolerance", "Observation", "MedicationRequest",
                             "DocumentReference", "Composition"}) {
      if (caps.contains(std::string(type) + ":search-type")) out.emplace_back(type);
    }
    return out;
  }();
  const bool has_search = !search_types.empty() && caps.contains("Consent:create");
  std::vector<std::vector<size_t>> consented(n_inst);
  if ((has_summary || has_search) && any_stored &&
      (Wants(o, "summary") || Wants(o, "search") || mixed)) {
    std::vector<std::pair<size_t, size_t>> pairs;  // (reader, person)
    std::set<size_t> readers;
    for (int w = 0; w < o.connections; ++w) readers.insert(HomeInstitutions(w, o.connections, n_inst)[0]);
    for (size_t reader : readers) {
      // Persons seen elsewhere: the summary then spans other institutions' data.
      Rng rng{o.seed + reader};
      for (size_t k = 0; k < std::min(static_cast<size_t>(o.readable_persons),
                                       data.population.persons.size());
           ++k) {
        const size_t person = rng.Below(data.population.persons.size());
        pairs.emplace_back(reader, person);
        consented[reader].push_back(person);
      }
    }
    std::atomic<size_t> next{0};
    const Headers headers = {{"Content-Type", "application/fhir+json"}};
    results.push_back(RunWorkers(
        "consent", "consents", pairs.size(), 0, o.connections, *ids, o.quiet, server_pid,
        [&](int, Connections& c, Tally& t, Progress& p) {
          const size_t i = next.fetch_add(1);
          if (i >= pairs.size()) return false;
          const auto [reader, person] = pairs[i];
          Timed(c.As(reader), t, p, "POST", "/Consent", headers,
                ConsentJson(data.population.persons[person]),
                {200, 201});
          return true;
        }));
  }
  auto reader_of = [&](int w) { return HomeInstitutions(w, o.connections, n_inst)[0]; };

  if (Wants(o, "summary") || mixed) {
    if (!has_summary) {
      if (Wants(o, "summary")) {
        results.push_back(Skipped("summary", "the server has no GET /Patient/$summary and POST /Consent"));
      }
    } else if (any_stored) {
      auto step = [&](int w, Connections& c, Tally& t, Progress& p, Rng& rng) {
        const size_t reader = reader_of(w);
        const auto& persons = consented[reader];
        const gen::Person& person = data.population.persons[persons[rng.Below(persons.size())]];
        Timed(c.As(reader), t, p, "GET", "/Patient/$summary?identifier=" + PatientParameter(person),
              {}, {}, {200});
      };
      mix.push_back(step);
      if (Wants(o, "summary")) run_timed("summary", "summaries", step);
    }
  }
  if (Wants(o, "search") || mixed) {
    if (!has_search) {
      if (Wants(o, "search")) results.push_back(Skipped("search", "the server has no per-kind search"));
    } else if (any_stored) {
      auto step = [&](int w, Connections& c, Tally& t, Progress& p, Rng& rng) {
        const size_t reader = reader_of(w);
        const auto& persons = consented[reader];
        const gen::Person& person = data.population.persons[persons[rng.Below(persons.size())]];
        const std::string& type = search_types[rng.Below(search_types.size())];
        Timed(c.As(reader), t, p, "GET", "/" + type + "?patient.identifier=" + PatientParameter(person),
              {}, {}, {200});
      };
      mix.push_back(step);
      if (Wants(o, "search")) run_timed("search", "searches", step);
    }
  }
  if (Wants(o, "inbox") || mixed) {
    if (!caps.contains("Bundle$inbox") && !Routed(setup.Operator(), "/Bundle/$inbox")) {
      if (Wants(o, "inbox")) results.push_back(Skipped("inbox", "the server has no GET /Bundle/$inbox"));
    } else if (!addressees.empty()) {
      auto step = [&](int w, Connections& c, Tally& t, Progress& p, Rng& rng) {
        const size_t reader = addressees[(static_cast<size_t>(w) + rng.Below(2)) % addressees.size()];
        Timed(c.As(reader), t, p, "GET", "/Bundle/$inbox", {}, {}, {200});
      };
      mix.push_back(step);
      if (Wants(o, "inbox")) run_timed("inbox", "inboxes", step);
    }
  }
  if (mixed && o.assume_loaded) {
    results.push_back(Skipped("mixed", "--assume-loaded: the Bundle ids are not known"));
  } else if (mixed) {
    if (mix.empty()) {
      results.push_back(Skipped("mixed", "nothing was ingested"));
    } else {
      // Writes are the prepared resubmissions (changed content: a new version and new items);
      // when they run out, the worker reads instead.
      std::vector<size_t> resend;
      for (size_t u = 0; u < data.units.size(); ++u) {
        if (!data.units[u].resubmission.empty() && !data.units[u].bundle_id.empty()) resend.push_back(u);
      }
      std::atomic<size_t> next{0};
      const Headers headers = {{"Content-Type", "application/fhir+json"}};
      run_timed("mixed", "requests", [&](int w, Connections& c, Tally& t, Progress& p, Rng& rng) {
        if (static_cast<int>(rng.Below(100)) < o.mixed_write_percent) {
          const size_t i = next.fetch_add(1);
          if (i < resend.size()) {
            const Unit& u = data.units[resend[i]];
            Timed(c.As(u.institution), t, p, "POST", "/Bundle", headers, u.resubmission,
                  {200, 201}, u.resources);
            return;
          }
        }
        mix[rng.Below(mix.size())](w, c, t, p, rng);
      });
    }
  }

  // The server's footprint.
  ServerFacts facts;
  if (server) {
    facts.rss = server->RssBytes();
    facts.peak_rss = server->PeakRssBytes();
    facts.rss_source = "/proc/" + std::to_string(server->pid()) + "/status";
    facts.startup_seconds = startup_seconds;
    const int exit_status = server->Stop();
    if (exit_status != 0) log("the spawned server exited with status %d", exit_status);
    facts.disk = DataBytes(data_dir);
  } else if (uint64_t rss = MetricsRss(setup.Operator()); rss > 0) {
    facts.rss = rss;
    facts.rss_source = "/metrics";
  }

  uint64_t errors = 0;
  for (const WorkloadResult& r : results) {
    errors += r.tally.errors;
    for (const std::string& s : r.tally.samples) std::fprintf(stderr, "  %s error: %s\n", r.name.c_str(), s.c_str());
  }
  if (o.json) {
    std::printf("%s\n", fhir::WriteJsonPretty(ToJson(o, data, results, facts, stored_resources, errors)).c_str());
  } else {
    PrintTable(data, results, facts, stored_resources);
  }
  std::fflush(stdout);
  cleanup();
  return errors > 0 && !o.allow_errors ? 2 : 0;
}

CLI::App* AddBenchCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* bench = app.add_subcommand(
      "bench",
      "Load tool: generate a population, ingest it over HTTPS with mutual TLS, run read "
      "workloads and report throughput, latency, memory and disk");
  BenchOptions& o = *options;
  bench->add_option("--url", o.url, "Hub to load: https://host:port");
  bench->add_flag("--spawn", o.spawn,
                  "Start `clinshub serve` on a temporary data directory and measure it end to end");
  bench->add_option("--server-arg", o.server_args,
                    "With --spawn: an extra `clinshub serve` argument (repeatable, e.g. "
                    "--server-arg=--workers=16)")
      ->allow_extra_args(false);
  bench->add_option("--server-binary", o.server_binary, "With --spawn: the clinshub binary (default: this one)");
  bench->add_option("--work-dir", o.work_dir, "With --spawn: where the temporary data directory goes (default: $TMPDIR)");
  bench->add_flag("--keep-data", o.keep_data, "With --spawn: keep the data directory");
  bench->add_option("--pki", o.pki_dir,
                    "The hub's PKI folder (DATA/pki): issue the operator and institution "
                    "certificates from its CA");
  bench->add_option("--cacert", o.cacert, "Without --pki: the hub CA certificate (PEM)");
  bench->add_option("--cert", o.cert, "Without --pki: operator client certificate (PEM)");
  bench->add_option("--key", o.key, "Without --pki: operator client key (PEM)");
  bench->add_option("--client-certs", o.client_certs,
                    "Without --pki: folder with <institution code>/cert.pem and key.pem for every "
                    "generated institution (clinshub cert issue --out DIR/<code>)");
  bench->add_option("--seed", o.seed, "Generator seed")->capture_default_str();
  bench->add_option("--persons", o.persons, "Persons to generate")->capture_default_str()->check(CLI::PositiveNumber);
  bench->add_option("--institutions", o.institutions, "Institutions to generate (at least 4)")
      ->capture_default_str();
  bench->add_option("-c,--connections", o.connections, "Concurrent keep-alive connections (workers)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench->add_option("-T,--duration", o.duration, "Seconds per read workload")->capture_default_str();
  bench->add_option("--workloads", o.workloads,
                    "Comma-separated: ingest, read, summary, search, inbox, mixed")
      ->delimiter(',')
      ->capture_default_str();
  bench->add_flag("--gzip,!--no-gzip", o.accept_gzip,
                  "Send Accept-Encoding: gzip, as common FHIR clients do, and decode gzip "
                  "bodies (default: on)");
  bench->add_option("--readable-persons", o.readable_persons,
                    "Persons each reading institution records a consent for and reads in the "
                    "summary and search workloads (more: a larger working set)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench->add_flag("--assume-loaded", o.assume_loaded,
                  "The hub already holds this population (an earlier run with the same --seed, "
                  "--persons and --institutions): skip loading the directory, roster and "
                  "bundles and run the read workloads that need no Bundle ids");
  bench->add_option("--data", o.data_dir,
                    "With --spawn: serve this data directory (kept by an earlier --keep-data "
                    "run) instead of a new one; it is not removed");
  bench->add_option("--mixed-write-percent", o.mixed_write_percent,
                    "Share of writes (resubmissions) in the mixed workload")
      ->capture_default_str()->check(CLI::Range(0, 100));
  bench->add_flag("--json", o.json, "Print the results as JSON on stdout");
  bench->add_flag("-q,--quiet", o.quiet, "No progress on stderr");
  bench->add_flag("--allow-errors", o.allow_errors, "Exit 0 even when requests failed");
  bench->callback([options, &exit_code] { exit_code = RunBench(*options); });
  return bench;
}

}  // namespace clinshub::loadtest

// clinshub-gen: writes a synthetic JP-CLINS population, institution directory and every kind
// of submission bundle to a folder, deterministically from --seed.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>

#include "fhir/json.h"
#include "generator/generator.h"

namespace gen = clinshub::generator;
using clinshub::fhir::Value;

namespace {

Value S(const std::string& s) { return Value::String(s); }

Value InstitutionJson(const gen::Institution& i) {
  Value o = Value::Object();
  o.Set("code", S(i.code));
  o.Set("name", S(i.name));
  o.Set("kana", S(i.kana));
  o.Set("kind", S(std::string(gen::InstitutionKindName(i.kind))));
  o.Set("postcode", S(i.postcode));
  o.Set("prefecture", S(i.prefecture));
  o.Set("city", S(i.city));
  o.Set("address", S(i.address));
  o.Set("phone", S(i.phone));
  o.Set("emergencyPermission", Value::Bool(i.emergency_permission));
  return o;
}

Value PersonJson(const gen::Person& p) {
  Value o = Value::Object();
  o.Set("person", Value::Number(std::to_string(p.index)));
  o.Set("familyKanji", S(p.family_kanji));
  o.Set("givenKanji", S(p.given_kanji));
  o.Set("familyKana", S(p.family_kana));
  o.Set("givenKana", S(p.given_kana));
  o.Set("gender", S(p.gender));
  o.Set("birthDate", S(p.birth_date));
  o.Set("postcode", S(p.postcode));
  o.Set("address", S(p.address));
  o.Set("phone", S(p.phone));
  Value ids = Value::Array();
  for (const gen::HeldIdentifier& h : p.identifiers) {
    Value id = Value::Object();
    id.Set("system", S(h.system));
    id.Set("value", S(h.value));
    id.Set("from", S(h.from));
    if (!h.to.empty()) id.Set("to", S(h.to));
    if (!h.reason.empty()) id.Set("reason", S(h.reason));
    ids.Append(std::move(id));
  }
  o.Set("identifiers", std::move(ids));
  return o;
}

bool WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"clinshub-gen: deterministic synthetic JP-CLINS submissions for a demo hub"};
  uint64_t seed = 1;
  int persons = 100;
  int institutions = 30;
  int resubmit_percent = 10;
  std::string out;
  bool pretty = false;
  app.add_option("--seed", seed, "Seed; the same seed gives byte-identical output")->capture_default_str();
  app.add_option("--persons", persons, "Number of persons")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--institutions", institutions, "Number of institutions (at least 4)")->capture_default_str();
  app.add_option("--resubmit-percent", resubmit_percent,
                 "Also write a changed resubmission for this share of reporting units")
      ->capture_default_str()->check(CLI::Range(0, 100));
  app.add_option("--out", out, "Output folder (created)")->required();
  app.add_flag("--pretty", pretty, "Indent JSON for reading");
  CLI11_PARSE(app, argc, argv);

  gen::GeneratorOptions options;
  options.seed = seed;
  options.persons = persons;
  options.institutions = institutions;
  auto start = std::chrono::steady_clock::now();
  gen::Generator generator(options);

  std::filesystem::path dir(out);
  std::error_code ec;
  std::filesystem::create_directories(dir / "bundles", ec);
  std::filesystem::create_directories(dir / "resubmissions", ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", out.c_str(), ec.message().c_str());
    return 1;
  }
  std::string lines;
  for (const gen::Institution& i : generator.population().institutions)
    lines += clinshub::fhir::WriteJson(InstitutionJson(i)) + "\n";
  if (!WriteFile(dir / "institutions.ndjson", lines)) return 1;
  lines.clear();
  for (const gen::Person& p : generator.population().persons)
    lines += clinshub::fhir::WriteJson(PersonJson(p)) + "\n";
  if (!WriteFile(dir / "population.ndjson", lines)) return 1;

  size_t bundles = 0, bytes = 0;
  auto write = [&](const std::filesystem::path& folder, const gen::GeneratedSubmission& s) {
    char name[96];
    std::snprintf(name, sizeof name, "P%08llu-%s-%s-r%d.json",
                  static_cast<unsigned long long>(s.person_index),
                  s.bundle_identifier.substr(s.bundle_identifier.rfind('^') + 1).c_str(),
                  std::string(gen::SubmissionKindName(s.kind)).c_str(), s.revision);
    std::string json = pretty ? clinshub::fhir::WriteJsonPretty(s.bundle)
                              : clinshub::fhir::WriteJson(s.bundle);
    bytes += json.size();
    ++bundles;
    return WriteFile(folder / name, json);
  };
  uint64_t pick = seed;
  for (const gen::Person& p : generator.population().persons) {
    for (const gen::GeneratedSubmission& s : generator.SubmissionsFor(p)) {
      if (!write(dir / "bundles", s)) return 1;
      // Which units get a resubmission: a cheap deterministic hash, not the data stream.
      pick = pick * 6364136223846793005ULL + 1442695040888963407ULL;
      if (static_cast<int>((pick >> 33) % 100) < resubmit_percent &&
          !write(dir / "resubmissions", generator.Resubmission(p, s, 1)))
        return 1;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "%zu bundles, %.1f MB in %.2f s (%.0f bundles/s)\n", bundles,
               static_cast<double>(bytes) / 1e6, secs, static_cast<double>(bundles) / secs);
  return 0;
}

// Every published JP-CLINS / JP-Core example must parse, round-trip through the writer and
// pass the FHIR JSON structure checks. The examples are read at run time (their licence does
// not allow copying them into the repository).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fhir/json.h"

namespace clinshub::fhir {
namespace {

namespace fs = std::filesystem;

// Examples that are genuinely invalid FHIR R4 JSON, by path relative to the examples folder,
// with the reason. Empty: every example currently conforms.
const std::map<std::string, std::string>& KnownInvalidExamples() {
  static const std::map<std::string, std::string> kKnown = {};
  return kKnown;
}

std::vector<fs::path> ExampleFiles(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ExamplesTest, EveryExampleRoundTripsAndPassesStructureChecks) {
  const fs::path root = fs::path(CLINSHUB_SHARED_DIR) / "clins" / "examples";
  if (!fs::is_directory(root)) GTEST_SKIP() << "no examples folder at " << root;
  std::vector<fs::path> files = ExampleFiles(root);
  ASSERT_FALSE(files.empty());
  for (const fs::path& file : files) {
    std::string rel = fs::relative(file, root).string();
    std::string json = ReadFile(file);
    Result<Value> parsed = ParseJson(json);
    ASSERT_TRUE(parsed.ok()) << rel << ": " << parsed.status().ToString();
    Result<Value> reparsed = ParseJson(WriteJson(*parsed));
    ASSERT_TRUE(reparsed.ok()) << rel;
    EXPECT_EQ(*reparsed, *parsed) << rel;
    EXPECT_EQ(WriteJson(*reparsed), WriteJson(*parsed)) << rel;

    Result<Value> resource = ParseResource(json);
    if (KnownInvalidExamples().count(rel) != 0) {
      EXPECT_FALSE(resource.ok()) << rel << " is listed as invalid but now passes";
    } else {
      EXPECT_TRUE(resource.ok()) << rel << ": " << resource.status().ToString();
    }
  }
}

TEST(ExamplesTest, CoreDefinitionsPassStructureChecks) {
  // The FHIR core package itself (StructureDefinitions, ValueSets, ...) is a large, varied and
  // authoritative corpus for the structure checks.
  const fs::path root = fs::path(CLINSHUB_SHARED_DIR) / "fhir-r4-core";
  if (!fs::is_directory(root)) GTEST_SKIP() << "no fhir-r4-core folder at " << root;
  // package.json is npm metadata, not a resource; this SearchParameter's id is 67 characters,
  // over the 64 that R4 allows for ids (an error in the published package).
  const std::map<std::string, std::string> known_invalid = {
      {"package.json", "npm package manifest, not a FHIR resource"},
      {"SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json",
       "id longer than 64 characters"},
  };
  size_t checked = 0;
  for (const fs::path& file : ExampleFiles(root)) {
    std::string name = file.filename().string();
    Result<Value> resource = ParseResource(ReadFile(file));
    EXPECT_EQ(resource.ok(), known_invalid.count(name) == 0)
        << name << ": " << resource.status().ToString();
    ++checked;
  }
  EXPECT_GT(checked, 4000u);
}

}  // namespace
}  // namespace clinshub::fhir

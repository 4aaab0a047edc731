#include "access/bulk_load.h"

#include <gtest/gtest.h>

namespace clinshub::access {
namespace {

constexpr char kIns[] = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
constexpr char kPub[] = "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID";

// A clinshub-gen institutions.ndjson line.
std::string GenLine(const std::string& code, const std::string& kana = "ヤマダイイン") {
  return R"({"code":")" + code + R"(","name":"山田医院","kana":")" + kana +
         R"(","kind":"clinic","postcode":"113-0033","prefecture":"東京都","city":"文京区",)"
         R"("address":"東京都文京区本郷1-1-1","phone":"03-1234-5678","emergencyPermission":false})";
}

bool Mentions(const Status& st, const std::string& expression) {
  for (const Issue& i : st.issues()) {
    if (i.expression == expression) return true;
  }
  return false;
}

TEST(BulkFormatTest, ContentTypesMapToFormats) {
  EXPECT_EQ(*BulkFormatForContentType("application/x-ndjson"), BulkFormat::kNdjson);
  EXPECT_EQ(*BulkFormatForContentType("application/fhir+ndjson"), BulkFormat::kNdjson);
  EXPECT_EQ(*BulkFormatForContentType("text/csv; charset=utf-8"), BulkFormat::kCsv);
  EXPECT_EQ(*BulkFormatForContentType("Text/CSV"), BulkFormat::kCsv);
  EXPECT_EQ(BulkFormatForContentType("application/json").status().code(),
            ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(BulkFormatForContentType("").status().code(), ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(BulkFormatForPath("/tmp/a.CSV"), BulkFormat::kCsv);
  EXPECT_EQ(BulkFormatForPath("/tmp/institutions.ndjson"), BulkFormat::kNdjson);
}

TEST(ParseDirectoryTest, ReadsGeneratorNdjsonIgnoringPrefectureAndCity) {
  auto r = ParseDirectory(GenLine("1311234567") + "\n\n" + GenLine("1311234568") + "\n",
                          BulkFormat::kNdjson);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].code, "1311234567");
  EXPECT_EQ((*r)[0].kana, "ヤマダイイン");
  EXPECT_EQ((*r)[0].postcode, "113-0033");
  EXPECT_TRUE((*r)[0].active);
  EXPECT_FALSE((*r)[0].emergency_permitted);
}

TEST(ParseDirectoryTest, ReadsCsvWithQuotesBomAndCrlf) {
  std::string csv =
      "\xEF\xBB\xBF"
      "code,name,kana,kind,postcode,address,phone,emergencyPermission\r\n"
      "1311234567,\"山田医院, 本院\",ﾔﾏﾀﾞｲｲﾝ,hospital,1130033,\"東京都\"\"文京区\"\"\","
      "03-1234-5678,true\r\n";
  auto r = ParseDirectory(csv, BulkFormat::kCsv);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "山田医院, 本院");
  EXPECT_EQ((*r)[0].address, "東京都\"文京区\"");
  EXPECT_EQ((*r)[0].postcode, "113-0033");
  EXPECT_EQ((*r)[0].kind, "hospital");
  EXPECT_TRUE((*r)[0].emergency_permitted);
  EXPECT_TRUE((*r)[0].active);
}

TEST(ParseDirectoryTest, EveryBadLineIsNamedWithItsField) {
  struct Case {
    std::string line;
    std::string expression;
  };
  const std::vector<Case> cases = {
      {"not json", "line[2]"},
      {"[1]", "line[2]"},
      {R"({"code":"9911234567","name":"x","kana":"x","kind":"clinic"})", "line[2].code"},
      {R"({"code":"1311234568","name":"","kana":"x","kind":"clinic"})", "line[2].name"},
      {R"({"code":"1311234568","name":"x","kind":"clinic"})", "line[2].kana"},
      {R"({"code":"1311234568","name":"x","kana":"x","kind":"pharmacy"})", "line[2].kind"},
      {R"({"code":"1311234568","name":"x","kana":"x","kind":"clinic","postcode":"12-34"})",
       "line[2].postcode"},
      {R"({"code":"1311234568","name":"x","kana":"x","kind":"clinic","phone":"12345"})",
       "line[2].phone"},
      {R"({"code":"1311234568","name":"x","kana":"x","kind":"clinic","active":"yes"})",
       "line[2].active"},
      {R"({"code":"1311234568","name":"x","kana":"x","kind":"clinic","fax":"1"})",
       "line[2].fax"},
      {GenLine("1311234567"), "line[2].code"},  // the same code twice
  };
  for (const Case& c : cases) {
    auto r = ParseDirectory(GenLine("1311234567") + "\n" + c.line + "\n", BulkFormat::kNdjson);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().code(), ErrorCode::kUnprocessable) << c.line;
    EXPECT_TRUE(Mentions(r.status(), c.expression)) << c.line << " -> " << r.status().ToString();
  }
}

TEST(ParseDirectoryTest, CsvHeaderProblemsAreLineOne) {
  auto r = ParseDirectory("code,name,kind,colour\n1311234567,x,clinic,red\n", BulkFormat::kCsv);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.status(), "line[1].colour"));
  EXPECT_TRUE(Mentions(r.status(), "line[1].kana"));
  auto ragged = ParseDirectory("code,name,kana,kind\n1311234567,x,y\n", BulkFormat::kCsv);
  ASSERT_FALSE(ragged.ok());
  EXPECT_TRUE(Mentions(ragged.status(), "line[2]"));
  EXPECT_EQ(ParseDirectory("", BulkFormat::kCsv).status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseDirectory("\n", BulkFormat::kNdjson).status().code(), ErrorCode::kMalformed);
}

TEST(ParseDirectoryTest, ReportsAtMostTheLimitPlusASummary) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += "{}\n";
  auto r = ParseDirectory(text, BulkFormat::kNdjson);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().issues().size(), kMaxBulkIssues + 1);
}

TEST(CheckInstitutionTest, NormalisesWidthAndPostcode) {
  store::InstitutionRecord r{"１３１１２３４５６７", " 山田医院 ", "ヤマダ", "", "１１３００３３",
                             "０３-１２３４-５６７８", "Clinic"};
  EXPECT_TRUE(CheckInstitution(r).empty());
  EXPECT_EQ(r.code, "1311234567");
  EXPECT_EQ(r.name, "山田医院");
  EXPECT_EQ(r.postcode, "113-0033");
  EXPECT_EQ(r.phone, "03-1234-5678");
  EXPECT_EQ(r.kind, "clinic");
  r.kind = "checkup-center";  // clinshub-gen's spelling
  EXPECT_TRUE(CheckInstitution(r).empty());
  EXPECT_EQ(r.kind, "checkup");
}

std::string PersonLine(const std::string& person, const std::string& value,
                       const std::string& from = "2020-04-01", const std::string& to = "") {
  return R"({"person":)" + person + R"(,"familyKanji":"山田","identifiers":[{"system":")" +
         kIns + R"(","value":")" + value + R"(","from":")" + from + "\"" +
         (to.empty() ? "" : R"(,"to":")" + to + "\"") + "}]}";
}

TEST(ParseRosterTest, ReadsGeneratorNdjsonIntoNormalisedEntries) {
  std::string line = R"({"person":7,"gender":"male","identifiers":[)"
                     R"({"system":")" + std::string(kIns) +
                     R"(","value":"00012345:あいう:１８７:05","from":"2019-01-01","to":"2021-03-31","reason":"転職"},)"
                     R"({"system":")" + std::string(kPub) +
                     R"(","value":"12345678::1234567:","from":"2021-04-01"}]})";
  auto r = ParseRoster(line + "\n", BulkFormat::kNdjson);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->persons, 1u);
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[0].person_key, "P7");
  EXPECT_EQ(r->entries[0].value_normalised, "00012345:あいう:187:05");
  EXPECT_EQ(r->entries[0].valid_to, "2021-03-31");
  EXPECT_EQ(r->entries[1].system, kPub);
  EXPECT_EQ(r->entries[1].valid_to, "");
}

TEST(ParseRosterTest, ReadsCsv) {
  std::string csv = std::string("person,system,value,from,to\n") + "1," + kIns +
                    ",00012345:あいう:187:05,2020-01-01,\n" + "2," + kIns +
                    ",00012345:あいう:188:,2020-01-01,2024-12-31\n";
  auto r = ParseRoster(csv, BulkFormat::kCsv);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->persons, 2u);
  EXPECT_EQ(r->entries[1].person_key, "P2");
  EXPECT_EQ(r->entries[1].valid_to, "2024-12-31");
}

TEST(ParseRosterTest, EveryBadLineIsNamedWithItsField) {
  struct Case {
    std::string line;
    std::string expression;
  };
  const std::string id0 = "line[2].identifiers[0].";
  const std::vector<Case> cases = {
      {R"({"identifiers":[]})", "line[2].person"},
      {R"({"person":-1,"identifiers":[]})", "line[2].person"},
      {R"({"person":2})", "line[2].identifiers"},
      {PersonLine("2", "0001:あ:1:"), id0 + "value"},
      {PersonLine("2", "00012345:あいう:999:", "2020-02-30"), id0 + "from"},
      {PersonLine("2", "00012345:あいう:999:", "2020-02-01", "2019-01-01"), id0 + "to"},
      {PersonLine("2", "00012345:あいう:１８７:05"), id0 + "value"},  // line 1's, in full width
      {R"({"person":2,"identifiers":[{"system":"urn:x","value":"1","from":"2020-01-01"}]})",
       id0 + "system"},
      {R"({"person":2,"identifiers":[{"system":"urn:x","value":1}]})", id0 + "value"},
  };
  for (const Case& c : cases) {
    auto r = ParseRoster(PersonLine("1", "00012345:あいう:187:05") + "\n" + c.line,
                         BulkFormat::kNdjson);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().code(), ErrorCode::kUnprocessable) << c.line;
    EXPECT_TRUE(Mentions(r.status(), c.expression)) << c.line << " -> " << r.status().ToString();
  }
}

}  // namespace
}  // namespace clinshub::access

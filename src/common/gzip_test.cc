#include "common/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace clinshub {
namespace {

constexpr size_t kLimit = 64 << 20;

// JSON-like text that compresses the way bodies do, and noise that does not.
std::string JsonLike(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) {
    s += R"({"resourceType":"Condition","id":")" + std::to_string(rng()) +
         R"(","code":{"coding":[{"system":"http://jpfhir.jp/fhir/core/mhlw/CodeSystem/)" +
         "MDCDisease\",\"code\":\"" + std::to_string(rng() % 100000) + "\",\"display\":\"高血圧症\"}]}},";
  }
  s.resize(n);
  return s;
}

std::string Noise(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A body assembled from pieces: 't' = text (stored blocks), 'r' = a deflated run.
struct Piece {
  char how;
  std::string text;
};

TEST(GzipTest, PiecesOfStoredTextAndDeflatedRunsDecodeToTheirConcatenation) {
  const std::vector<std::vector<Piece>> cases = {
      {},
      {{'t', ""}},
      {{'r', ""}},
      {{'t', "{\"total\":3,\"entry\":["}},
      {{'r', JsonLike(5000, 1)}},
      {{'t', "{\"entry\":["}, {'r', JsonLike(80000, 2)}, {'t', "]}"}},
      {{'r', JsonLike(3000, 3)}, {'r', JsonLike(3000, 4)}, {'r', JsonLike(10, 5)}},
      {{'t', Noise(70000, 6)}},  // more than one stored block (65,535 bytes each)
      {{'r', Noise(200000, 7)}, {'t', "x"}, {'r', JsonLike(1, 8)}},
      {{'t', std::string(65535, 'a')}, {'t', std::string(65536, 'b')}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    GzipBuilder builder;
    std::string expected;
    for (const Piece& p : cases[i]) {
      if (p.how == 't') {
        builder.AppendText(p.text);
      } else {
        builder.AppendRun(DeflateRun(p.text));
      }
      expected += p.text;
    }
    std::string body = std::move(builder).Finish();
    Result<std::string> text = Gunzip(body, kLimit);
    ASSERT_TRUE(text.ok()) << "case " << i << ": " << text.status().ToString();
    EXPECT_EQ(*text, expected) << "case " << i;
  }
}

// A final run (libdeflate) ends the stream: text and runs before it, nothing after.
TEST(GzipTest, AFinalRunEndsTheStreamAfterAnyPieces) {
  const std::vector<std::vector<Piece>> cases = {
      {{'f', ""}},
      {{'f', JsonLike(90000, 50)}},
      {{'t', "{\"total\":3,\"entry\":["}, {'f', JsonLike(80000, 51) + "]}"}},
      {{'r', JsonLike(3000, 52)}, {'t', ","}, {'f', Noise(70000, 53)}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    GzipBuilder builder;
    std::string expected;
    for (const Piece& p : cases[i]) {
      if (p.how == 't') builder.AppendText(p.text);
      if (p.how == 'r') builder.AppendRun(DeflateRun(p.text));
      if (p.how == 'f') builder.AppendRun(DeflateFinalRun(p.text));
      expected += p.text;
    }
    Result<std::string> text = Gunzip(std::move(builder).Finish(), kLimit);
    ASSERT_TRUE(text.ok()) << "case " << i << ": " << text.status().ToString();
    EXPECT_EQ(*text, expected) << "case " << i;
  }
  const std::string json = JsonLike(90000, 54);
  const DeflatedRun final_run = DeflateFinalRun(json);
  EXPECT_TRUE(final_run.final);
  EXPECT_EQ(final_run.crc32, crc32(0, reinterpret_cast<const Bytef*>(json.data()), json.size()));
  EXPECT_LT(final_run.deflated.size(), json.size() / 3);
  GzipBuilder ended;
  ended.AppendRun(final_run);
  EXPECT_THROW(ended.AppendText("x"), std::logic_error);
  EXPECT_THROW(ended.AppendRun(DeflateRun("x")), std::logic_error);
}

TEST(GzipTest, RunsCompressJsonAndAreReusableInAnyOrder) {
  const std::string a = JsonLike(20000, 10), b = JsonLike(20000, 11);
  const DeflatedRun ra = DeflateRun(a), rb = DeflateRun(b);
  EXPECT_LT(ra.deflated.size(), a.size() / 3);
  EXPECT_EQ(ra.size, a.size());
  EXPECT_EQ(ra.crc32, crc32(0, reinterpret_cast<const Bytef*>(a.data()), a.size()));
  for (int order = 0; order < 2; ++order) {
    GzipBuilder builder;
    builder.AppendRun(order == 0 ? ra : rb);
    builder.AppendText(",");
    builder.AppendRun(order == 0 ? rb : ra);
    Result<std::string> text = Gunzip(std::move(builder).Finish(), kLimit);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, order == 0 ? a + "," + b : b + "," + a);
  }
}

TEST(GzipTest, WholeBodyRoundTripsAtEveryLevel) {
  const std::string text = JsonLike(100000, 20);
  for (int level = 1; level <= 9; ++level) {
    std::string body = Gzip(text, level);
    EXPECT_LT(body.size(), text.size() / 3) << level;
    Result<std::string> back = Gunzip(body, kLimit);
    ASSERT_TRUE(back.ok()) << level;
    EXPECT_EQ(*back, text);
  }
  Result<std::string> empty = Gunzip(Gzip(""), kLimit);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(GzipTest, ConcatenatedMembersDecodeAsOneText) {
  Result<std::string> text = Gunzip(Gzip("abc") + Gzip("def"), kLimit);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "abcdef");
}

TEST(GzipTest, BadBodiesAreErrorsNotCrashes) {
  const std::string good = Gzip(JsonLike(5000, 30));
  std::string flipped_crc = good;
  flipped_crc[flipped_crc.size() - 6] ^= 1;
  struct Case {
    const char* name;
    std::string body;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"empty", "", ErrorCode::kMalformed},
      {"not gzip", "{\"resourceType\":\"Bundle\"}", ErrorCode::kMalformed},
      {"truncated", good.substr(0, good.size() / 2), ErrorCode::kMalformed},
      {"no trailer", good.substr(0, good.size() - 8), ErrorCode::kMalformed},
      {"wrong crc", flipped_crc, ErrorCode::kMalformed},
      {"garbage after", good + "xyz", ErrorCode::kMalformed},
  };
  for (const Case& c : cases) {
    Result<std::string> text = Gunzip(c.body, kLimit);
    ASSERT_FALSE(text.ok()) << c.name;
    EXPECT_EQ(text.status().code(), c.code) << c.name;
  }
}

TEST(GzipTest, InflatingPastTheLimitStopsWithPayloadTooLarge) {
  const std::string bomb = Gzip(std::string(10 << 20, '\0'), 9);  // ~10 KB
  ASSERT_LT(bomb.size(), 64u << 10);
  Result<std::string> text = Gunzip(bomb, 1 << 20);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), ErrorCode::kPayloadTooLarge);
}

// Another decoder than zlib's inflate: the gzip program (always on Debian). Skipped when the
// program is missing.
TEST(GzipTest, TheGzipProgramDecodesAnAssembledBody) {
  if (std::system("command -v gzip >/dev/null 2>&1") != 0) GTEST_SKIP() << "no gzip program";
  const std::string a = JsonLike(30000, 40), b = JsonLike(70000, 41);
  GzipBuilder builder;
  builder.AppendText("{\"entry\":[");
  builder.AppendRun(DeflateRun(a));
  builder.AppendText(",");
  builder.AppendRun(DeflateRun(b));
  builder.AppendText(",");
  builder.AppendRun(DeflateFinalRun(a + "]}"));
  const std::string body = std::move(builder).Finish();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gzip_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "body.gz", std::ios::binary) << body; }
  const std::string cmd = "gzip -t '" + (dir / "body.gz").string() + "' && gzip -dc '" +
                          (dir / "body.gz").string() + "' > '" + (dir / "body").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir / "body", std::ios::binary);
  std::string decoded((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(decoded, "{\"entry\":[" + a + "," + b + "," + a + "]}");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace clinshub

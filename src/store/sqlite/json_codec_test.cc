#include "store/sqlite/json_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace clinshub::store::sqlite {
namespace {

std::string SampleBundle() {
  std::string json = R"({"resourceType":"Bundle","id":"b1","meta":{"versionId":"1"},"entry":[)";
  for (int i = 0; i < 50; ++i) {
    if (i > 0) json += ',';
    json += R"({"resource":{"resourceType":"Observation","id":"o)" + std::to_string(i) +
            R"(","code":{"text":"体温"},"valueQuantity":{"value":36.5,"unit":"Cel"}}})";
  }
  json += "]}";
  return json;
}

// What the store writes now (LZ4) and what the releases of 2026-11 wrote (zstd): both must
// read back.
struct Codec {
  const char* name;
  std::string (*compress)(std::string_view);
  std::string magic;
};
const Codec kCodecs[] = {
    {"lz4", &CompressJson, std::string("\x04\x22\x4D\x18", 4)},
    {"zstd", &CompressJsonAsZstdForTests, std::string("\x28\xB5\x2F\xFD", 4)},
};

TEST(JsonCodecTest, NewRowsAreLz4) {
  const std::string stored = CompressJson(SampleBundle());
  EXPECT_EQ(stored.substr(0, 4), kCodecs[0].magic);
}

TEST(JsonCodecTest, RoundTripIsSmallerAndExact) {
  for (const Codec& codec : kCodecs) {
    SCOPED_TRACE(codec.name);
    const std::string json = SampleBundle();
    const std::string stored = codec.compress(json);
    EXPECT_LT(stored.size(), json.size() / 2);
    EXPECT_TRUE(IsCompressedJson(stored.data(), stored.size()));
    Result<std::string> back = DecodeStoredJson(stored.data(), stored.size());
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, json);
  }
}

TEST(JsonCodecTest, OldPlainRowsReadAsTheyAre) {
  const std::string json = SampleBundle();
  EXPECT_FALSE(IsCompressedJson(json.data(), json.size()));
  Result<std::string> back = DecodeStoredJson(json.data(), json.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, json);
  // Shorter than the magic: plain too.
  Result<std::string> tiny = DecodeStoredJson("{}", 2);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(*tiny, "{}");
}

TEST(JsonCodecTest, Empty) {
  for (const Codec& codec : kCodecs) {
    const std::string stored = codec.compress("");
    Result<std::string> back = DecodeStoredJson(stored.data(), stored.size());
    ASSERT_TRUE(back.ok()) << codec.name << ": " << back.status().message();
    EXPECT_EQ(*back, "");
  }
  Result<std::string> none = DecodeStoredJson(nullptr, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
}

// The store writes a small head frame (the writer's part) followed by the caller's frame of
// the rest; the two read back as one document.
TEST(JsonCodecTest, ConcatenatedFramesDecodeAsOneDocument) {
  for (const Codec& codec : kCodecs) {
    SCOPED_TRACE(codec.name);
    const std::string json = SampleBundle();
    const size_t cut = 40;
    const std::string stored =
        codec.compress(json.substr(0, cut)) + codec.compress(json.substr(cut));
    Result<std::string> back = DecodeStoredJson(stored.data(), stored.size());
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, json);
    // A second frame cut short is damage, not a shorter document.
    const std::string truncated = stored.substr(0, stored.size() - 3);
    Result<std::string> bad = DecodeStoredJson(truncated.data(), truncated.size());
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), ErrorCode::kInternal);
    // Bytes after the last frame that are not a frame: damage too.
    const std::string trailing = stored + "{}";
    Result<std::string> junk = DecodeStoredJson(trailing.data(), trailing.size());
    ASSERT_FALSE(junk.ok());
    EXPECT_EQ(junk.status().code(), ErrorCode::kInternal);
  }
}

TEST(JsonCodecTest, CorruptFrameIsInternalNotACrash) {
  for (const Codec& codec : kCodecs) {
    SCOPED_TRACE(codec.name);
    const std::string json = SampleBundle();
    const std::string stored = codec.compress(json);
    // Truncated body.
    std::string cut = stored.substr(0, stored.size() / 2);
    Result<std::string> r1 = DecodeStoredJson(cut.data(), cut.size());
    ASSERT_FALSE(r1.ok());
    EXPECT_EQ(r1.status().code(), ErrorCode::kInternal);
    // Flipped bytes in the compressed body.
    std::string flipped = stored;
    for (size_t i = stored.size() / 2; i < stored.size(); ++i) flipped[i] = static_cast<char>(~flipped[i]);
    Result<std::string> r2 = DecodeStoredJson(flipped.data(), flipped.size());
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r2.status().code(), ErrorCode::kInternal);
    // Only the magic, no header.
    Result<std::string> r3 = DecodeStoredJson(codec.magic.data(), codec.magic.size());
    ASSERT_FALSE(r3.ok());
    EXPECT_EQ(r3.status().code(), ErrorCode::kInternal);
  }
}

}  // namespace
}  // namespace clinshub::store::sqlite

// Issue 7 on the store itself: new versions are stored as LZ4 BLOBs (json_codec.h); rows
// earlier releases wrote (zstd frames, plain text) are read as they are by every read path,
// with no migration rewriting them; a damaged frame is kInternal.
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fhir/json.h"
#include "store/sqlite/json_codec.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_suite.h"

namespace clinshub::store {
namespace {

std::vector<std::string> Row(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<std::string> row;
  if (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      const unsigned char* t = sqlite3_column_text(s, i);
      row.push_back(t == nullptr ? "NULL" : reinterpret_cast<const char*>(t));
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return row;
}

void Exec(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

class StoredJsonTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("stored-json"); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
  ManualClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
};

TEST_F(StoredJsonTest, NewRowsAreCompressedAndOldPlainRowsStayReadable) {
  SqliteOptions options;
  options.path = dir_;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string file = SqliteDatabaseFile(dir_);
  auto put_patient = [&](const std::string& gender) {
    WriteBatch b;
    fhir::Value p = fhir::Value::Object();
    p.Set("resourceType", fhir::Value::String("Patient"));
    p.Set("id", fhir::Value::String("p1"));
    p.Set("gender", fhir::Value::String(gender));
    b.ops.push_back(PutResource{std::move(p), std::nullopt});
    return (*store)->Commit(std::move(b));
  };
  ASSERT_TRUE(put_patient("female").ok());
  EXPECT_EQ(Row(file, "SELECT typeof(content), hex(substr(content, 1, 4)) FROM resource_version"
                      " WHERE type = 'Patient' AND id = 'p1'"),
            (std::vector<std::string>{"blob", "04224D18"}));
  // Version 1 as the first releases wrote it: plain JSON text.
  Exec(file,
       "UPDATE resource_version SET content = '{\"resourceType\":\"Patient\",\"id\":\"p1\","
       "\"gender\":\"old\"}' WHERE type = 'Patient' AND id = 'p1' AND version = 1");
  ASSERT_TRUE(put_patient("male").ok());
  // Version 2 as the releases of 2026-11 wrote it: one zstd frame.
  const std::string v2_json = R"({"resourceType":"Patient","id":"p1","gender":"male-zstd"})";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* update = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "UPDATE resource_version SET content = ?1 WHERE type = 'Patient'"
                               " AND id = 'p1' AND version = 2",
                               -1, &update, nullptr),
            SQLITE_OK);
  const std::string zstd_row = sqlite::CompressJsonAsZstdForTests(v2_json);
  sqlite3_bind_blob(update, 1, zstd_row.data(), static_cast<int>(zstd_row.size()),
                    SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(update), SQLITE_DONE);
  sqlite3_finalize(update);
  sqlite3_close(db);
  ASSERT_TRUE(put_patient("other").ok());

  Result<ResourceVersion> v1 = (*store)->ReadVersion("Patient", "p1", 1);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->json, R"({"resourceType":"Patient","id":"p1","gender":"old"})");
  Result<ResourceVersion> v2 = (*store)->ReadVersion("Patient", "p1", 2);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->json, v2_json);
  Result<ResourceVersion> current = (*store)->Read("Patient", "p1");
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  EXPECT_NE(current->json.find(R"("gender":"other")"), std::string::npos) << current->json;
  EXPECT_NE(current->json.find(R"("versionId":"3")"), std::string::npos) << current->json;
  Result<std::vector<ResourceVersion>> history = (*store)->History("Patient", "p1", 10);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].json, current->json);
  EXPECT_EQ((*history)[1].json, v2->json);
  EXPECT_EQ((*history)[2].json, v1->json);

  // A damaged frame is the store's own fault on every read path, never a crash.
  for (const char* damaged : {"x'04224D180000DEADBEEF'", "x'28B52FFD0000DEADBEEF'"}) {
    Exec(file, std::string("UPDATE resource_version SET content = ") + damaged +
                   " WHERE type = 'Patient' AND id = 'p1' AND version = 3");
    EXPECT_EQ((*store)->Read("Patient", "p1").status().code(), ErrorCode::kInternal);
    EXPECT_EQ((*store)->ReadVersion("Patient", "p1", 3).status().code(), ErrorCode::kInternal);
    EXPECT_EQ((*store)->History("Patient", "p1", 10).status().code(), ErrorCode::kInternal);
  }
}

// A unit whose two items are its Bundle's entries, as submissions make them.
PutUnit TwoEntryUnit(const std::string& tag) {
  PutUnit u;
  u.key = UnitKey{"person-1", "http://jpfhir.jp/fhir/clins/bundle-identifier", "1311234567^2025^A"};
  u.institution = "1311234567";
  u.kind = "Condition";
  u.content_hash = "hash-" + tag;
  std::string entries;
  for (int i = 0; i < 2; ++i) {
    const std::string resource = R"({"resourceType":"Condition","id":"c)" + std::to_string(i) +
                                 R"(","note":[{"text":")" + tag + R"("}]})";
    Item item;
    item.kind = ItemKind::kCondition;
    item.resource_type = "Condition";
    item.code = tag + "-" + std::to_string(i);
    item.json = resource;
    item.entry = i;
    u.items.push_back(item);
    entries += std::string(i > 0 ? "," : "") + R"({"fullUrl":"urn:uuid:)" + std::to_string(i) +
               R"(","resource":)" + resource + "}";
  }
  Result<fhir::Value> bundle = fhir::ParseJson(
      R"({"resourceType":"Bundle","type":"collection","entry":[)" + entries + "]}");
  EXPECT_TRUE(bundle.ok());
  u.bundle = std::move(*bundle);
  return u;
}

// Issue 7: items are not stored twice. A unit's items point into its stored Bundle (item.json
// is empty, json_at/json_len set) and read back byte for byte; a row written before (its own
// JSON, no span) still reads; a span outside its Bundle is the store's fault, not a crash.
TEST_F(StoredJsonTest, ItemsAreSlicesOfTheirStoredBundle) {
  SqliteOptions options;
  options.path = dir_;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string file = SqliteDatabaseFile(dir_);
  WriteBatch batch;
  batch.ops.push_back(TwoEntryUnit("first"));
  ASSERT_TRUE((*store)->Commit(std::move(batch)).ok());
  EXPECT_EQ(Row(file, "SELECT count(*) FROM item WHERE json = '' AND json_at > 0 AND json_len > 0"),
            (std::vector<std::string>{"2"}));

  Result<std::vector<StoredItem>> items = (*store)->ListItems("person-1");
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), 2u);
  for (const StoredItem& i : *items) {
    EXPECT_EQ(i.item.json, R"({"resourceType":"Condition","id":"c)" +
                               std::to_string(i.ordinal) + R"(","note":[{"text":"first"}]})");
  }

  // A row as an older release wrote it: its own JSON and no span.
  Exec(file, "UPDATE item SET json = '{\"resourceType\":\"Condition\",\"id\":\"old\"}',"
             " json_at = NULL, json_len = NULL WHERE ordinal = 0");
  items = (*store)->ListItems("person-1");
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), 2u);
  for (const StoredItem& i : *items) {
    if (i.ordinal == 0) EXPECT_EQ(i.item.json, R"({"resourceType":"Condition","id":"old"})");
    if (i.ordinal == 1) EXPECT_NE(i.item.json.find("first"), std::string::npos);
  }

  Exec(file, "UPDATE item SET json_at = 1000000 WHERE ordinal = 1");
  EXPECT_EQ((*store)->ListItems("person-1").status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace clinshub::store

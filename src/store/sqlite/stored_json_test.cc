// Issue 7 on the store itself: new versions are stored as zstd BLOBs (json_codec.h); rows an
// older release wrote are plain text and are read as they are by every read path, with no
// migration rewriting them; a damaged frame is kInternal.
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fhir/json.h"
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
            (std::vector<std::string>{"blob", "28B52FFD"}));
  // Version 1 as an older release wrote it: plain JSON text.
  Exec(file,
       "UPDATE resource_version SET content = '{\"resourceType\":\"Patient\",\"id\":\"p1\","
       "\"gender\":\"old\"}' WHERE type = 'Patient' AND id = 'p1' AND version = 1");
  ASSERT_TRUE(put_patient("male").ok());

  Result<ResourceVersion> v1 = (*store)->ReadVersion("Patient", "p1", 1);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->json, R"({"resourceType":"Patient","id":"p1","gender":"old"})");
  Result<ResourceVersion> current = (*store)->Read("Patient", "p1");
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  EXPECT_NE(current->json.find(R"("gender":"male")"), std::string::npos) << current->json;
  EXPECT_NE(current->json.find(R"("versionId":"2")"), std::string::npos) << current->json;
  Result<std::vector<ResourceVersion>> history = (*store)->History("Patient", "p1", 10);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].json, current->json);
  EXPECT_EQ((*history)[1].json, v1->json);

  // A damaged frame is the store's own fault on every read path, never a crash.
  Exec(file, "UPDATE resource_version SET content = x'28B52FFD0000DEADBEEF'"
             " WHERE type = 'Patient' AND id = 'p1' AND version = 2");
  EXPECT_EQ((*store)->Read("Patient", "p1").status().code(), ErrorCode::kInternal);
  EXPECT_EQ((*store)->ReadVersion("Patient", "p1", 2).status().code(), ErrorCode::kInternal);
  EXPECT_EQ((*store)->History("Patient", "p1", 10).status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace clinshub::store

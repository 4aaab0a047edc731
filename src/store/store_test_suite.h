// The backend-neutral Store test suite. Every backend instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//                            ::testing::Values(StoreFactory{"Sqlite", &OpenMyStore}));
//
// so that the PostgreSQL store later proves the very same contract as the SQLite one.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::store {

struct StoreFactory {
  std::string name;  // test-name suffix, e.g. "Sqlite"
  // Opens the store whose data lives at `location` (a fresh, empty temp directory per test;
  // a server backend may derive a database or schema name from it). Opening the same
  // location again must see the data committed before the previous store was destroyed.
  std::function<Result<std::unique_ptr<Store>>(const std::string& location, const Clock& clock)>
      open;
};

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Destroys the current store (draining its writes) and opens the location again.
  void Reopen();

  Store& store() { return *store_; }

  std::string location_;
  ManualClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<Store> store_;
};

// Makes a fresh directory under the gtest temp dir; removed by the caller.
std::string MakeTempDir(const std::string& prefix);

}  // namespace clinshub::store

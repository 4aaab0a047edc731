// The outbox worker against a scripted poster and a ManualClock: claims, backoff with jitter,
// dead letter, permanent refusals. End-to-end delivery over real HTTP (failures, duplicates,
// restarts, kill -9) is in tests/http/public_health_test.cc.
#include "publichealth/outbox_worker.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <deque>
#include <filesystem>

#include "store/sqlite/sqlite_store.h"

namespace clinshub::publichealth {
namespace {

using namespace std::chrono_literals;

struct Script {
  std::deque<Result<PostResult>> replies;
  std::vector<std::pair<std::string, std::string>> last_headers;
  int calls = 0;
};

class ScriptedPoster final : public HttpPoster {
 public:
  explicit ScriptedPoster(Script& s) : s_(s) {}
  Result<PostResult> Post(const std::string&, const std::string&,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string&) override {
    ++s_.calls;
    s_.last_headers = headers;
    if (s_.replies.empty()) return PostResult{200, ""};
    Result<PostResult> r = std::move(s_.replies.front());
    s_.replies.pop_front();
    return r;
  }

 private:
  Script& s_;
};

class OutboxWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/outbox-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = store::OpenSqliteStore(store::SqliteOptions{.path = dir_}, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    options_.endpoint_url = "http://127.0.0.1:9/notify";
    options_.max_attempts = 4;
    options_.base_backoff = 1000ms;
    options_.lease = 60s;
    options_.jitter_seed = 7;
    worker_ = std::make_unique<OutboxWorker>(*store_, clock_,
                                             std::make_unique<ScriptedPoster>(script_), options_,
                                             logger_);
    store::NotificationRecord n;
    n.person_key = "P1";
    n.id = "n1";
    n.institution = "1311234567";
    n.identifier = "1311234567^2026^x";
    n.disease_code = "measles";
    n.bundle_json = "{}";
    store::WriteBatch b;
    b.ops.push_back(store::PutNotification{n});
    ASSERT_TRUE(store_->Commit(std::move(b)).ok());
  }
  void TearDown() override {
    worker_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  store::DeliveryRecord Delivery() { return store_->ReadDelivery("n1").value(); }

  std::string dir_;
  ManualClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
  spdlog::logger logger_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::unique_ptr<store::Store> store_;
  Script script_;
  OutboxOptions options_;
  std::unique_ptr<OutboxWorker> worker_;
};

TEST(BackoffTest, DoublesFromTheBaseUpToTheCap) {
  OutboxOptions o;
  o.base_backoff = 1000ms;
  o.max_backoff = 5000ms;
  EXPECT_EQ(BackoffDelay(o, 1), 1000ms);
  EXPECT_EQ(BackoffDelay(o, 2), 2000ms);
  EXPECT_EQ(BackoffDelay(o, 3), 4000ms);
  EXPECT_EQ(BackoffDelay(o, 4), 5000ms);
  EXPECT_EQ(BackoffDelay(o, 60), 5000ms);
}

TEST_F(OutboxWorkerTest, DeliversWithTheNotificationIdAsIdempotencyKey) {
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EXPECT_EQ(Delivery().state, store::DeliveryState::kDelivered);
  EXPECT_EQ(Delivery().attempts, 1);
  EXPECT_EQ(Delivery().delivered, clock_.Now());
  ASSERT_FALSE(script_.last_headers.empty());
  EXPECT_EQ(script_.last_headers[0].first, "Idempotency-Key");
  EXPECT_EQ(script_.last_headers[0].second, "n1");
  EXPECT_EQ(*worker_->RunOnce(), 0) << "delivered once, never again";
}

TEST_F(OutboxWorkerTest, RetriesWithGrowingJitteredBackoffThenDeadLetters) {
  script_.replies = {PostResult{503, ""}, UnavailableError("connect: refused"),
                     PostResult{500, ""}, PostResult{502, ""}, PostResult{200, ""}};
  ASSERT_EQ(*worker_->RunOnce(), 1);
  store::DeliveryRecord d = Delivery();
  EXPECT_EQ(d.state, store::DeliveryState::kQueued);
  EXPECT_EQ(d.last_error, "HTTP 503");
  // Equal jitter: between half and all of the 1 s base.
  EXPECT_GE(d.next_attempt, clock_.Now() + 500ms);
  EXPECT_LE(d.next_attempt, clock_.Now() + 1000ms);
  EXPECT_EQ(*worker_->RunOnce(), 0) << "not due before its backoff";

  clock_.Advance(1s);
  ASSERT_EQ(*worker_->RunOnce(), 1);
  d = Delivery();
  EXPECT_EQ(d.attempts, 2);
  EXPECT_NE(d.last_error.find("refused"), std::string::npos) << d.last_error;
  EXPECT_GE(d.next_attempt, clock_.Now() + 1000ms);
  EXPECT_LE(d.next_attempt, clock_.Now() + 2000ms);

  clock_.Advance(2s);
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EXPECT_LE(Delivery().next_attempt, clock_.Now() + 4000ms);
  clock_.Advance(4s);
  ASSERT_EQ(*worker_->RunOnce(), 1);
  d = Delivery();
  EXPECT_EQ(d.state, store::DeliveryState::kFailed) << "max_attempts = 4 reached";
  EXPECT_EQ(d.attempts, 4);
  EXPECT_EQ(d.last_error, "HTTP 502");
  clock_.Advance(1h);
  EXPECT_EQ(*worker_->RunOnce(), 0) << "a dead letter is never retried by itself";
  EXPECT_EQ(script_.calls, 4);
}

TEST_F(OutboxWorkerTest, APermanentRefusalDeadLettersAtOnceAndA409CountsAsDelivered) {
  script_.replies = {PostResult{400, ""}};
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EXPECT_EQ(Delivery().state, store::DeliveryState::kFailed);
  EXPECT_EQ(Delivery().attempts, 1);

  store::NotificationRecord n;
  n.person_key = "P2";
  n.id = "n2";
  n.bundle_json = "{}";
  store::WriteBatch b;
  b.ops.push_back(store::PutNotification{n});
  ASSERT_TRUE(store_->Commit(std::move(b)).ok());
  script_.replies = {PostResult{409, ""}};
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EXPECT_EQ(store_->ReadDelivery("n2")->state, store::DeliveryState::kDelivered);
}

TEST_F(OutboxWorkerTest, AnAttemptACrashInterruptedIsRetriedAfterItsLease) {
  // What a crash mid-POST leaves behind: the claim without an outcome.
  store::WriteBatch claim;
  claim.ops.push_back(store::UpdateDelivery{"n1", 0, store::DeliveryState::kQueued, 1,
                                            clock_.Now() + options_.lease, ""});
  ASSERT_TRUE(store_->Commit(std::move(claim)).ok());
  EXPECT_EQ(*worker_->RunOnce(), 0);
  clock_.Advance(options_.lease);
  ASSERT_EQ(*worker_->RunOnce(), 1);
  EXPECT_EQ(Delivery().state, store::DeliveryState::kDelivered);
  EXPECT_EQ(Delivery().attempts, 2);
}

}  // namespace
}  // namespace clinshub::publichealth

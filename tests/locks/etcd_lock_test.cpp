// EtcdLock against a real etcd: mutual exclusion, fencing tokens, lease
// expiry and revocation, keepalive, an etcd that goes away, and contention.

#include "lifeboat/locks/etcd_lock.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "etcd_server.hpp"
#include "lifeboat/http/client.hpp"
#include "lifeboat/test_support/temp_dir.hpp"

namespace lifeboat::locks {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

class EtcdLockTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(etcd_.running()); }

  // An agent's options; `holder` tells agents apart in messages.
  EtcdOptions agent(const std::string& holder, milliseconds ttl = seconds(10)) const {
    EtcdOptions options;
    options.endpoints = {etcd_.endpoint()};
    options.holder = holder;
    options.leaseTtl = ttl;
    options.requestTimeout = seconds(2);
    return options;
  }

  // What an operator (or a partition) might do: revoke a lease directly.
  void revokeLease(std::int64_t lease) const {
    http::Request request;
    request.method = "POST";
    request.url = etcd_.endpoint() + "/v3/lease/revoke";
    request.body = R"({"ID":")" + std::to_string(lease) + R"("})";
    request.timeout = seconds(5);
    const http::Outcome outcome = http::perform(request);
    ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().message;
    ASSERT_EQ(outcome.result->status, 200) << outcome.result->body;
  }

  test_support::TempDir directory_;
  fixtures::EtcdServer etcd_{directory_.path()};
};

TEST_F(EtcdLockTest, AcquiresAndReleases) {
  const EtcdOptions options = agent("agent-a");
  Result<EtcdLock> lock = EtcdLock::acquire(options, "orders", milliseconds(0));
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  EXPECT_GT(lock->fencingToken(), 0);
  EXPECT_NE(lock->leaseId(), 0);
  EXPECT_EQ(lock->key(), "/lifeboat/locks/orders");
  EXPECT_EQ(lock->service(), "orders");
  EXPECT_GT(lock->validUntil(), Clock::now() + seconds(5));
  Result<bool> holder = isCurrentHolder(options, "orders", lock->fencingToken());
  ASSERT_TRUE(holder.ok()) << holder.error().message;
  EXPECT_TRUE(*holder);
  EXPECT_FALSE(*isCurrentHolder(options, "orders", lock->fencingToken() - 1));
  EXPECT_FALSE(*isCurrentHolder(options, "billing", lock->fencingToken()));

  const std::int64_t token = lock->fencingToken();
  ASSERT_TRUE(lock->release().ok());
  EXPECT_FALSE(*isCurrentHolder(options, "orders", token));
  EXPECT_TRUE(lock->release().ok()) << "a second release does nothing";
  EXPECT_FALSE(lock->keepAlive().ok()) << "a released lock cannot be kept alive";

  Result<EtcdLock> again = EtcdLock::acquire(options, "orders", milliseconds(0));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_GT(again->fencingToken(), token);
}

TEST_F(EtcdLockTest, SecondAgentFailsAtOnceWhileHeldAndSucceedsAfterRelease) {
  Result<EtcdLock> first = EtcdLock::acquire(agent("agent-a on db-1"), "orders", milliseconds(0));
  ASSERT_TRUE(first.ok()) << first.error().message;

  const auto started = Clock::now();
  Result<EtcdLock> second = EtcdLock::acquire(agent("agent-b"), "orders", milliseconds(0));
  ASSERT_FALSE(second.ok());
  EXPECT_LT(Clock::now() - started, seconds(1));
  EXPECT_THAT(second.error().message, HasSubstr("service orders is locked by agent-a on db-1"));
  EXPECT_THAT(second.error().message, HasSubstr("/lifeboat/locks/orders"));
  EXPECT_THAT(second.error().message,
              HasSubstr("fencing token " + std::to_string(first->fencingToken())));
  EXPECT_FALSE(second.error().hint.empty());

  // Another service is a different lock.
  EXPECT_TRUE(EtcdLock::acquire(agent("agent-b"), "billing", milliseconds(0)).ok());

  ASSERT_TRUE(first->release().ok());
  Result<EtcdLock> third = EtcdLock::acquire(agent("agent-b"), "orders", milliseconds(0));
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_GT(third->fencingToken(), first->fencingToken());
}

TEST_F(EtcdLockTest, WaiterGetsTheLockWhenTheHolderReleasesDuringTheWait) {
  Result<EtcdLock> first = EtcdLock::acquire(agent("agent-a"), "orders", milliseconds(0));
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::int64_t firstToken = first->fencingToken();

  const auto started = Clock::now();
  std::thread releaser([&first] {
    std::this_thread::sleep_for(milliseconds(500));  // the holder's run
    EXPECT_TRUE(first->release().ok());
  });
  Result<EtcdLock> second = EtcdLock::acquire(agent("agent-b"), "orders", seconds(10));
  const auto waited = Clock::now() - started;
  releaser.join();
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_GE(waited, milliseconds(450));
  EXPECT_LT(waited, seconds(3));
  EXPECT_GT(second->fencingToken(), firstToken);
}

TEST_F(EtcdLockTest, WaitEndsWithAnErrorNamingTheHolder) {
  Result<EtcdLock> first = EtcdLock::acquire(agent("agent-a"), "orders", milliseconds(0));
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto started = Clock::now();
  Result<EtcdLock> second = EtcdLock::acquire(agent("agent-b"), "orders", milliseconds(700));
  ASSERT_FALSE(second.ok());
  EXPECT_GE(Clock::now() - started, milliseconds(650));
  EXPECT_LT(Clock::now() - started, seconds(3));
  EXPECT_THAT(second.error().message, HasSubstr("locked by agent-a"));
}

TEST_F(EtcdLockTest, CancelledWaitReturnsPromptlyAndLeavesNothingBehind) {
  Result<EtcdLock> first = EtcdLock::acquire(agent("agent-a"), "orders", milliseconds(0));
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::atomic<bool> cancel{false};
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(milliseconds(300));
    cancel = true;
  });
  const auto started = Clock::now();
  Result<EtcdLock> second = EtcdLock::acquire(agent("agent-b"), "orders", seconds(30),
                                              [&cancel] { return cancel.load(); });
  canceller.join();
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.error().message, HasSubstr("cancelled"));
  EXPECT_LT(Clock::now() - started, seconds(2));
  // The holder is untouched.
  EXPECT_TRUE(*isCurrentHolder(agent("x"), "orders", first->fencingToken()));
  EXPECT_TRUE(first->keepAlive().ok());
}

TEST_F(EtcdLockTest, TokensStrictlyIncreaseAcrossAlternatingHolders) {
  const EtcdOptions a = agent("agent-a");
  const EtcdOptions b = agent("agent-b");
  std::int64_t previous = 0;
  for (int round = 0; round < 50; ++round) {
    Result<EtcdLock> lock = EtcdLock::acquire(round % 2 == 0 ? a : b, "orders", milliseconds(0));
    ASSERT_TRUE(lock.ok()) << "round " << round << ": " << lock.error().message;
    ASSERT_GT(lock->fencingToken(), previous) << "round " << round;
    previous = lock->fencingToken();
    // Some unrelated writes between holders must not matter either.
    if (round % 5 == 0) {
      EXPECT_TRUE(EtcdLock::acquire(a, "other-" + std::to_string(round), milliseconds(0)).ok());
    }
    ASSERT_TRUE(lock->release().ok());
  }
}

TEST_F(EtcdLockTest, RevokedLeaseIsNoticedByKeepAliveAndFencing) {
  const EtcdOptions a = agent("agent-a");
  Result<EtcdLock> lock = EtcdLock::acquire(a, "orders", milliseconds(0));
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  ASSERT_TRUE(lock->keepAlive().ok());
  const std::int64_t token = lock->fencingToken();

  revokeLease(lock->leaseId());

  Result<std::monostate> kept = lock->keepAlive();
  ASSERT_FALSE(kept.ok());
  EXPECT_THAT(kept.error().message, HasSubstr("lost the failover lock for service orders"));
  EXPECT_THAT(kept.error().message, HasSubstr("expired or revoked"));
  EXPECT_THAT(kept.error().hint, HasSubstr("stop starting steps"));
  EXPECT_FALSE(lock->keepAlive().ok()) << "a lost lock stays lost";
  EXPECT_FALSE(*isCurrentHolder(a, "orders", token));

  Result<EtcdLock> next = EtcdLock::acquire(agent("agent-b"), "orders", milliseconds(0));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_GT(next->fencingToken(), token);
  // The old holder's release must not free the new holder's lock.
  EXPECT_TRUE(lock->release().ok());
  EXPECT_TRUE(*isCurrentHolder(a, "orders", next->fencingToken()));
}

TEST_F(EtcdLockTest, DeletedKeyIsNoticedByKeepAlive) {
  Result<EtcdLock> lock = EtcdLock::acquire(agent("agent-a"), "orders", milliseconds(0));
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  http::Request request;  // `etcdctl del /lifeboat/locks/orders`
  request.method = "POST";
  request.url = etcd_.endpoint() + "/v3/kv/deleterange";
  request.body = R"({"key":"L2xpZmVib2F0L2xvY2tzL29yZGVycw=="})";
  ASSERT_EQ(http::perform(request).result->status, 200);
  Result<std::monostate> kept = lock->keepAlive();
  ASSERT_FALSE(kept.ok());
  EXPECT_THAT(kept.error().message, HasSubstr("deleted"));
}

TEST_F(EtcdLockTest, ExpiredLeaseFreesTheLockForAnotherAgent) {
  Result<EtcdLock> crashed =
      EtcdLock::acquire(agent("agent-a", seconds(2)), "orders", milliseconds(0));
  ASSERT_TRUE(crashed.ok()) << crashed.error().message;
  // agent-a never calls keepAlive(), as if it had crashed.
  const auto started = Clock::now();
  Result<EtcdLock> next = EtcdLock::acquire(agent("agent-b"), "orders", seconds(10));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_GE(Clock::now() - started, milliseconds(1500));
  EXPECT_LT(Clock::now() - started, seconds(5));
  EXPECT_GT(next->fencingToken(), crashed->fencingToken());
  EXPECT_FALSE(crashed->keepAlive().ok());
  EXPECT_TRUE(crashed->release().ok());
  EXPECT_TRUE(*isCurrentHolder(agent("x"), "orders", next->fencingToken()));
}

TEST_F(EtcdLockTest, KeepAliveHoldsTheLockPastSeveralTtls) {
  Result<EtcdLock> lock = EtcdLock::acquire(agent("agent-a", seconds(2)), "orders", seconds(0));
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  const auto until = Clock::now() + seconds(7);
  while (Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(600));  // the owner's timer: about TTL / 3
    Result<std::monostate> kept = lock->keepAlive();
    ASSERT_TRUE(kept.ok()) << kept.error().message;
    EXPECT_GT(lock->validUntil(), Clock::now() + seconds(1));
  }
  EXPECT_TRUE(*isCurrentHolder(agent("x"), "orders", lock->fencingToken()));
  EXPECT_FALSE(EtcdLock::acquire(agent("agent-b"), "orders", milliseconds(0)).ok());
}

TEST_F(EtcdLockTest, StoppedEtcdMakesKeepAliveFailWithinTheTtl) {
  Result<EtcdLock> lock = EtcdLock::acquire(agent("agent-a", seconds(2)), "orders", seconds(0));
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  ASSERT_TRUE(lock->keepAlive().ok());
  etcd_.stop();
  const auto stopped = Clock::now();
  Result<std::monostate> kept = std::monostate{};
  while (kept.ok() && Clock::now() < stopped + seconds(10)) {
    std::this_thread::sleep_for(milliseconds(200));
    kept = lock->keepAlive();
  }
  ASSERT_FALSE(kept.ok());
  EXPECT_LE(Clock::now() - stopped, milliseconds(2500));
  EXPECT_THAT(kept.error().message, HasSubstr("lost the failover lock for service orders"));
  EXPECT_THAT(kept.error().message, HasSubstr(etcd_.endpoint()));
  EXPECT_FALSE(lock->release().ok()) << "etcd is gone: the release cannot reach it";
}

TEST_F(EtcdLockTest, TriesTheNextEndpointWhenOneIsDown) {
  EtcdOptions options = agent("agent-a");
  options.endpoints = {"http://127.0.0.1:1", etcd_.endpoint() + "/"};
  Result<EtcdLock> lock = EtcdLock::acquire(options, "orders", milliseconds(0));
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  EXPECT_TRUE(lock->keepAlive().ok());
  EXPECT_TRUE(lock->release().ok());
}

TEST_F(EtcdLockTest, UnreachableEtcdIsAClearError) {
  EtcdOptions options = agent("agent-a");
  options.endpoints = {"http://127.0.0.1:1"};
  Result<EtcdLock> lock = EtcdLock::acquire(options, "orders", milliseconds(0));
  ASSERT_FALSE(lock.ok());
  EXPECT_THAT(lock.error().message, HasSubstr("http://127.0.0.1:1"));
  EXPECT_THAT(lock.error().hint, HasSubstr("etcd is running"));
  EXPECT_FALSE(isCurrentHolder(options, "orders", 1).ok());
}

TEST_F(EtcdLockTest, RejectsBadOptionsWithoutEchoingCredentials) {
  EtcdOptions options = agent("agent-a");
  options.endpoints = {"http://root:s3cret@127.0.0.1:2379"};
  Result<EtcdLock> lock = EtcdLock::acquire(options, "orders", milliseconds(0));
  ASSERT_FALSE(lock.ok());
  EXPECT_THAT(lock.error().message, ::testing::Not(HasSubstr("s3cret")));
  options.endpoints = {"127.0.0.1:2379"};
  EXPECT_FALSE(EtcdLock::acquire(options, "orders", milliseconds(0)).ok());
  options.endpoints = {};
  EXPECT_FALSE(EtcdLock::acquire(options, "orders", milliseconds(0)).ok());
  EXPECT_FALSE(EtcdLock::acquire(agent("a"), "", milliseconds(0)).ok());
}

TEST_F(EtcdLockTest, MovedLockKeepsHoldingAndMovedFromHoldsNothing) {
  Result<EtcdLock> lock = EtcdLock::acquire(agent("agent-a"), "orders", milliseconds(0));
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  EtcdLock moved = std::move(*lock);
  EXPECT_EQ(lock->fencingToken(), 0);
  EXPECT_FALSE(lock->keepAlive().ok());
  EXPECT_TRUE(moved.keepAlive().ok());
  EXPECT_TRUE(*isCurrentHolder(agent("x"), "orders", moved.fencingToken()));
}

TEST_F(EtcdLockTest, TwoContendingAgentsNeverHoldTheLockTogether) {
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::mutex tokensMutex;
  std::vector<std::int64_t> tokens;  // in the order the lock was held
  std::atomic<int> acquired{0};
  std::atomic<int> failed{0};

  auto contend = [&](const EtcdOptions& options) {
    for (int round = 0; round < 100; ++round) {
      Result<EtcdLock> lock = EtcdLock::acquire(options, "orders", seconds(1));
      if (!lock.ok()) {
        ++failed;
        continue;
      }
      if (inside.fetch_add(1) != 0) {
        overlapped = true;
      }
      ++acquired;
      {
        std::lock_guard guard(tokensMutex);
        tokens.push_back(lock->fencingToken());
      }
      // A fencing-aware step: asks etcd while holding the lock.
      Result<bool> current = isCurrentHolder(options, "orders", lock->fencingToken());
      EXPECT_TRUE(current.ok() && *current);
      inside.fetch_sub(1);
      EXPECT_TRUE(lock->release().ok());
    }
  };
  std::thread first(contend, agent("agent-a"));
  std::thread second(contend, agent("agent-b"));
  first.join();
  second.join();

  EXPECT_FALSE(overlapped);
  std::printf("contention: %d held, %d waits timed out\n", acquired.load(), failed.load());
  EXPECT_EQ(acquired + failed, 200);
  EXPECT_GE(acquired, 150) << failed << " attempts timed out";
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    ASSERT_GT(tokens[i], tokens[i - 1]) << "holder " << i;
  }
}

}  // namespace
}  // namespace lifeboat::locks

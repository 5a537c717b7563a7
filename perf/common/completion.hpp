// Counts finished tasks and lets one thread wait, with a time limit, until all of them ran.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace perf {

class completion {
 public:
  /// Starts a new round. Only between rounds: no task of the previous round may still arrive.
  void reset(std::uint64_t expected) {
    std::lock_guard lock(mu_);
    expected_ = expected;
    done_ = false;
    // relaxed: the tasks of the new round are queued after this, through the scheduler's own
    // synchronisation, which orders this store before their increments.
    count_.store(0, std::memory_order_relaxed);
  }

  /// Called by each task. Only the task that completes the count takes the mutex, so the hot
  /// path is one atomic increment, the same for every scheduler.
  void arrive() {
    // relaxed: the count publishes nothing; the last arriver hands over through mu_.
    if (count_.fetch_add(1, std::memory_order_relaxed) + 1 != expected_) return;
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  /// True once every expected task arrived; false after `limit` (a lost task, or a hang).
  bool wait_for(std::chrono::seconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [this] { return done_; });
  }

  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::uint64_t expected_ = 0;  // written by reset only, before the round's tasks are queued
  std::atomic<std::uint64_t> count_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // guarded by mu_
};

}  // namespace perf

// The pool every user writes first: N threads sharing one mutex, one condition variable and one
// std::deque of std::function. The baseline the runtime has to beat.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace perf {

class plain_pool {
 public:
  explicit plain_pool(std::size_t threads) {
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] { run(); });
  }

  /// Runs every queued task, then joins.
  ~plain_pool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }

  plain_pool(const plain_pool&) = delete;
  plain_pool& operator=(const plain_pool&) = delete;

  /// Thread-safe; allocates when f does not fit std::function's small buffer. A task that
  /// throws terminates the process, as it would in the naive pool this stands for.
  void submit(std::function<void()> f) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(f));
    }
    work_cv_.notify_one();
  }

  /// Blocks until every task submitted so far has run.
  void wait_idle() {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and drained
      std::function<void()> f = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      lock.unlock();
      f();
      lock.lock();
      --running_;
      if (queue_.empty() && running_ == 0) idle_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable work_cv_;  // a task was queued, or stopping
  std::condition_variable idle_cv_;  // the queue ran dry and no task is running
  std::deque<std::function<void()>> queue_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started only once the state above exists
};

}  // namespace perf

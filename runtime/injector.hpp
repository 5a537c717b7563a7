// The injector: tasks from threads that are not this runtime's workers. A moodycamel
// ConcurrentQueue fed through explicit producer tokens, one per (thread, runtime), plus a pending
// count used for backpressure, parking re-checks and shutdown.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>

#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/task.hpp"

namespace magpie::detail {

/// Producer tokens of one injector. Threads keep a shared_ptr to it in a thread_local cache, so
/// a thread that outlives the runtime (or a runtime that outlives the thread) never touches
/// freed memory: whoever goes first destroys the token under the mutex.
struct token_registry {
  std::mutex mu;
  bool alive = true;
  std::list<moodycamel::ProducerToken> tokens;  // stable addresses
};

class injector {
 public:
  using queue = moodycamel::ConcurrentQueue<task*>;
  static constexpr std::size_t batch = 8;  // tasks a worker takes per dequeue

  injector();
  ~injector();
  injector(const injector&) = delete;
  injector& operator=(const injector&) = delete;

  /// Adds to the pending count before checking capacity; returns false (count restored) when
  /// `max` (0 = unbounded) would be exceeded.
  bool try_reserve(std::size_t max) noexcept;
  void unreserve() noexcept;
  /// Enqueues a reserved task with the calling thread's producer token. May allocate; returns
  /// false only if allocation failed.
  bool push(task* t);
  /// Takes up to `max` tasks. Thread-safe.
  std::size_t pop_bulk(moodycamel::ConsumerToken& tok, task** out, std::size_t max) noexcept;
  std::int64_t pending() const noexcept {
    // seq_cst: parking re-checks and shutdown read this in a Dekker pattern against submitters.
    return pending_.load(std::memory_order_seq_cst);
  }
  queue& raw() noexcept { return queue_; }

 private:
  moodycamel::ProducerToken& token_for_this_thread();

  queue queue_;
  std::shared_ptr<token_registry> registry_ = std::make_shared<token_registry>();
  // Reserved (submitted, not yet dequeued) external tasks: written by producers and workers.
  alignas(cache_line) std::atomic<std::int64_t> pending_{0};
};

}  // namespace magpie::detail

// The injector: tasks from threads that are not this runtime's workers. A moodycamel
// ConcurrentQueue fed through explicit producer tokens, one per (thread, runtime); each producer
// also counts its submits in flight, so shutdown can tell when no submit can still arrive
// without a shared counter on the hot path.
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

/// One (thread, runtime) pair's producer state.
struct producer {
  explicit producer(moodycamel::ConcurrentQueue<task>& q) : token(q) {}
  moodycamel::ProducerToken token;
  // Submits between their `closed` check and the end of their enqueue. Written by the owning
  // thread only (RMWs on a line of its own), summed by shutdown.
  alignas(cache_line) std::atomic<std::uint32_t> in_flight{0};
};

/// The producers of one injector. Threads keep a shared_ptr to it in a thread_local cache, so a
/// thread that outlives the runtime (or a runtime that outlives the thread) never touches freed
/// memory: whoever goes first destroys the producer under the mutex.
struct producer_registry {
  std::mutex mu;
  bool alive = true;
  std::list<producer> producers;  // stable addresses
};

class injector {
 public:
  // Tasks travel by value: an outside submit allocates nothing for a small callable.
  using queue = moodycamel::ConcurrentQueue<task>;
  static constexpr std::size_t batch = 8;  // tasks a worker takes per dequeue

  injector();
  ~injector();
  injector(const injector&) = delete;
  injector& operator=(const injector&) = delete;

  /// The calling thread's producer for this injector (created on first use; may allocate).
  producer& this_thread_producer();
  /// Moves `t` into the queue through `p`'s token. May allocate a queue block; false (and `t`
  /// untouched) only if that allocation failed.
  bool push(producer& p, task&& t) { return queue_.enqueue(p.token, std::move(t)); }
  /// Moves up to `max` tasks out through `out`. Thread-safe, never blocks.
  template <class OutputIt>
  std::size_t pop_bulk(moodycamel::ConsumerToken& tok, OutputIt out, std::size_t max) noexcept {
    return queue_.try_dequeue_bulk(tok, out, max);
  }
  /// No task visible. Exact when no producer is mid-enqueue; parkers call it after their fence.
  bool empty_approx() const noexcept { return queue_.size_approx() == 0; }
  /// Some producer is between its `closed` check and the end of its enqueue.
  bool submits_in_flight();

  // Capacity accounting for config.max_pending (only used when it is not 0).
  bool try_take_capacity(std::size_t max) noexcept;
  void give_capacity(std::size_t n) noexcept;

  queue& raw() noexcept { return queue_; }

 private:
  queue queue_;
  std::shared_ptr<producer_registry> registry_ = std::make_shared<producer_registry>();
  // Queued-and-not-taken external tasks, for max_pending: written by producers and workers.
  alignas(cache_line) std::atomic<std::int64_t> pending_{0};
};

}  // namespace magpie::detail

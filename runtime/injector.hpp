// The injector: tasks from threads that are not this runtime's workers. A moodycamel
// ConcurrentQueue fed through explicit producer tokens, one per (thread, runtime); each producer
// also counts its submits in flight, so shutdown can tell when no submit can still arrive
// without a shared counter on the hot path.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>

#include "magpie/config.hpp"
#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/lanes.hpp"
#include "magpie/detail/task.hpp"

namespace magpie::detail {

/// One (thread, runtime) pair's producer state.
struct producer {
  using queue = moodycamel::ConcurrentQueue<task>;
  explicit producer(std::array<queue, lane_count>& q)
      : tokens(per_lane([&q](unsigned lane) { return moodycamel::ProducerToken(q[lane]); })) {}
  std::array<moodycamel::ProducerToken, lane_count> tokens;  // one per lane
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

  /// `urgent` counts the tasks in the high lane (a hint that never under-counts): it lives in
  /// the low bits of the runtime's attention word, so that one load tells a worker whether
  /// anything unusual, urgent work included, is pending (runtime_core::attention).
  explicit injector(std::atomic<std::int64_t>& urgent);
  ~injector();
  injector(const injector&) = delete;
  injector& operator=(const injector&) = delete;

  /// The calling thread's producer for this injector (created on first use; may allocate).
  producer& this_thread_producer();
  /// Moves `t` into `lane`'s queue through `p`'s token. May allocate a queue block; false (and
  /// `t` untouched) only if that allocation failed.
  bool push(producer& p, task&& t, unsigned lane) {
    if (lane == normal_lane) return queues_[lane].enqueue(p.tokens[lane], std::move(t));
    // relaxed: the hint is raised before the task is queued and lowered after it is taken, so
    // it never under-counts a queue's tasks; the Dekker pairs use the queues themselves.
    hint(lane).fetch_add(1, std::memory_order_relaxed);
    if (queues_[lane].enqueue(p.tokens[lane], std::move(t))) return true;
    hint(lane).fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  /// Moves up to `max` tasks of `lane` out through `out`. Thread-safe, never blocks.
  template <class OutputIt>
  std::size_t pop_bulk(moodycamel::ConsumerToken& tok, unsigned lane, OutputIt out,
                       std::size_t max) noexcept {
    if (lane != normal_lane && !may_have(lane)) return 0;
    const std::size_t n = queues_[lane].try_dequeue_bulk(tok, out, max);
    if (lane != normal_lane && n != 0) {
      hint(lane).fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
    }
    return n;
  }
  /// Takes one task of `lane` without a consumer token (shutdown's own discarding).
  bool try_pop(unsigned lane, task& out) noexcept {
    if (!queues_[lane].try_dequeue(out)) return false;
    if (lane != normal_lane) hint(lane).fetch_sub(1, std::memory_order_relaxed);
    return true;
  }
  /// For the rarely used lanes (high, low): false means the lane's queue is empty, so a worker
  /// can look for urgent work before every task for the price of one load of a quiet line.
  bool may_have(unsigned lane) const noexcept {
    // relaxed: see push. The urgent count shares its word with flags in the high bits.
    return (hint(lane).load(std::memory_order_relaxed) & hint_mask) > 0;
  }
  /// No task visible. Exact when no producer is mid-enqueue; parkers call it after their fence.
  bool empty_approx() const noexcept {
    for (const queue& q : queues_)
      if (q.size_approx() != 0) return false;
    return true;
  }
  /// Tasks queued in `lane` (approximate while producers and workers are active).
  std::size_t size_approx(unsigned lane) const noexcept { return queues_[lane].size_approx(); }
  /// Some producer is between its `closed` check and the end of its enqueue.
  bool submits_in_flight();

  // Capacity accounting for config.max_pending (only used when it is not 0).
  bool try_take_capacity(std::size_t max) noexcept;
  void give_capacity(std::size_t n) noexcept;
  /// Takes one unit of capacity even above the limit (a task accepted before it was queued).
  void force_take_capacity() noexcept;
  /// Capacity taken and not given back (max_pending's count). A statistic: never below 0.
  std::uint64_t pending() const noexcept {
    const std::int64_t n = pending_.load(std::memory_order_relaxed);  // relaxed: a statistic
    return n > 0 ? static_cast<std::uint64_t>(n) : 0;
  }

  /// A worker's token for taking from `lane` (pop_bulk).
  moodycamel::ConsumerToken consumer_token(unsigned lane) {
    return moodycamel::ConsumerToken(queues_[lane]);
  }

  /// The bits of a hint word that count tasks (the rest of the urgent word holds flags).
  static constexpr std::int64_t hint_mask = (std::int64_t{1} << 40) - 1;

 private:
  std::atomic<std::int64_t>& hint(unsigned lane) noexcept {
    return lane == lane_of(priority::high) ? *urgent_ : low_hint_;
  }
  const std::atomic<std::int64_t>& hint(unsigned lane) const noexcept {
    return lane == lane_of(priority::high) ? *urgent_ : low_hint_;
  }

  std::array<queue, lane_count> queues_;
  std::atomic<std::int64_t>* const urgent_;
  alignas(cache_line) std::atomic<std::int64_t> low_hint_{0};
  std::shared_ptr<producer_registry> registry_ = std::make_shared<producer_registry>();
  // Queued-and-not-taken external tasks, for max_pending: written by producers and workers.
  alignas(cache_line) std::atomic<std::int64_t> pending_{0};
};

}  // namespace magpie::detail

// A worker: its deques (one per lane), its task pool, its parker, and the scheduling loop
//   own deques (LIFO, high lane first) -> injector (batch) -> steal -> spin -> park,
// with every starvation_limit dispatches a turn where a lower lane is looked at first.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <latch>
#include <memory>

#include "activity.hpp"
#include "idle_set.hpp"
#include "injector.hpp"
#include "latency_recorder.hpp"
#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/ext/chase_lev_deque.hpp"
#include "task_pool.hpp"
#include "trace.hpp"

#include <concurrentqueue/concurrentqueue.h>

namespace magpie::detail {

class runtime_core;

/// Counters written only by their worker (relaxed load+store, no RMW), read by anyone.
struct worker_counters {
  std::atomic<std::uint64_t> ran{0};
  std::atomic<std::uint64_t> discarded{0};
  std::atomic<std::uint64_t> canceled{0};
  std::atomic<std::uint64_t> exceptions{0};
  std::atomic<std::uint64_t> stolen{0};
  std::atomic<std::uint64_t> injected{0};
  std::atomic<std::uint64_t> parks{0};
  std::atomic<std::uint64_t> spawned{0};
  std::atomic<std::uint64_t> steal_attempts{0};
  std::atomic<std::uint64_t> wakeups{0};
  std::array<latency_recorder, lane_count> latency;
  activity doing{ran, discarded, canceled};  // stall marker and busy time (activity.hpp)

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
    // relaxed: single writer; readers want a recent value, not an ordering.
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  static void bump(std::atomic<std::uint64_t>& c) noexcept { add(c, 1); }
};

class worker {
 public:
  worker(runtime_core& core, std::size_t index);
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// Thread body: bind to `cpu` (-1: none), report on `started`, run until the runtime stops.
  void main(int cpu, std::latch& started);
  /// task_group::wait on this worker: run other tasks until `g` has no pending task.
  void help_until_done(group_state& g);

  void push_local(task* t, unsigned lane) {
    worker_counters::bump(counters.spawned);
    lanes_[lane].owner.push(t);
  }
  task* allocate_task() { return pool_.allocate(); }
  void free_task(task* t) noexcept { pool_.release(t); }
  /// The group of the task this worker is running (innermost), or null.
  const group_state* current_group() const noexcept { return current_group_; }
  bool has_local_work() const noexcept;
  /// Tasks in this worker's deque of `lane` (approximate unless the worker is idle).
  std::size_t queued(unsigned lane) const noexcept { return lanes_[lane].deque.size_approx(); }
  ext::deque_thief<task*>& thief(unsigned lane) noexcept { return lanes_[lane].thief; }
  /// This worker's event ring, or null when config.trace is off.
  const trace_ring* trace() const noexcept { return trace_.get(); }

  runtime_core& core;
  const std::size_t index;
  int bound_cpu = -1;  // written before `started` counts down, read after
  worker_counters counters;

 private:
  template <class Done>
  void run_until(const Done& done, group_state* waiting_on);
  template <class Done>
  task* next_task(const Done& done);
  task* fair_turn();
  task* pop_local(unsigned lane);
  template <class Done>
  task* search(const Done& done);
  template <class Done>
  void park(const Done& done, group_state* waiting_on);
  task* from_injector();
  task* from_injector(unsigned lane);
  task* steal_round();
  task* steal_lane(unsigned lane);
  void leave_search();
  void execute(task* t);
  void run(task* t, group_state* g);
  [[gnu::noinline]] void run_traced(task* t, group_state* g);
  void note_steal(std::size_t victim, unsigned lane) noexcept;
  void record_latency(const task& t) noexcept;
  void on_exception(group_state* g, std::exception_ptr e);
  std::uint64_t next_random() noexcept;

  struct lane_deque {
    ext::chase_lev_deque<task*> deque;
    ext::deque_owner<task*> owner{deque};
    ext::deque_thief<task*> thief{deque};
  };

  // Owner-only state (thieves use lanes_[i].thief).
  std::array<lane_deque, lane_count> lanes_;
  task_pool pool_;
  std::array<moodycamel::ConsumerToken, lane_count> consumers_;
  group_state* current_group_ = nullptr;
  std::uint64_t rng_;
  std::uint32_t tick_ = 0;
  std::size_t fair_tick_ = 0;
  bool searching_ = false;
  bool latency_mode_;      // one of config.latency_workers: searches instead of parking
  bool hand_off_ = false;  // woken beside the waker: let a worker elsewhere do the searching
  std::unique_ptr<trace_ring> trace_;  // config.trace; null (one branch per event site) if off
  // Written by wakers.
  parker parker_;
};

// The worker this thread is, if any. One pointer per thread, not per runtime: a thread is a
// worker of at most one runtime, and callers compare worker->core to tell runtimes apart.
// Internal to the library (hidden visibility), so the TLS access is inlined where it is used.
extern thread_local worker* tls_worker;
/// The worker the calling thread is, or null.
inline worker* this_worker() noexcept {
  return tls_worker;
}

/// Marks one task of `g` finished; wakes its waiters if it was the last. Never touches `g`
/// after the decrement that may let a waiter return and destroy it.
void finish_group_task(group_state& g) noexcept;

}  // namespace magpie::detail

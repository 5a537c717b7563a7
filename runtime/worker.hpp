// A worker: its deque, its task pool, its parker, and the scheduling loop
//   own deque (LIFO) -> injector (batch) -> steal (random start) -> spin -> park.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <latch>

#include "idle_set.hpp"
#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/ext/chase_lev_deque.hpp"
#include "task_pool.hpp"

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
  std::atomic<std::uint64_t> parks{0};

  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    // relaxed: single writer; readers want a recent value, not an ordering.
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
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
  /// task_group::wait_for on this worker: as help_until_done, but also returns at `deadline`
  /// (sleeping at most until then). True if `g` has no pending task.
  bool help_until(group_state& g, std::chrono::steady_clock::time_point deadline);

  void push_local(task* t) { owner_.push(t); }
  task* allocate_task() { return pool_.allocate(); }
  void free_task(task* t) noexcept { pool_.release(t); }
  /// The group of the task this worker is running (innermost), or null.
  const group_state* current_group() const noexcept { return current_group_; }
  bool has_local_work() const noexcept { return !deque_.empty_approx(); }
  ext::deque_thief<task*>& thief() noexcept { return thief_; }

  runtime_core& core;
  const std::size_t index;
  int bound_cpu = -1;  // written before `started` counts down, read after
  worker_counters counters;

 private:
  using time_point = std::chrono::steady_clock::time_point;
  template <class Done>
  void run_until(const Done& done, group_state* waiting_on,
                 time_point deadline = time_point::max());
  template <class Done>
  task* next_task(const Done& done);
  template <class Done>
  task* search(const Done& done);
  template <class Done>
  void park(const Done& done, group_state* waiting_on, time_point deadline);
  task* from_injector();
  task* steal_round();
  void leave_search();
  void execute(task* t);
  void on_exception(group_state* g, std::exception_ptr e);
  std::uint64_t next_random() noexcept;

  // Owner-only state.
  ext::chase_lev_deque<task*> deque_;
  ext::deque_owner<task*> owner_{deque_};
  ext::deque_thief<task*> thief_{deque_};
  task_pool pool_;
  moodycamel::ConsumerToken consumer_;
  group_state* current_group_ = nullptr;
  std::uint64_t rng_;
  std::uint32_t tick_ = 0;
  bool searching_ = false;
  bool hand_off_ = false;  // woken beside the waker: let a worker elsewhere do the searching
  // Written by wakers.
  parker parker_;
};

// The worker this thread is, if any. One pointer per thread, not per runtime: a thread is a
// worker of at most one runtime, and callers compare worker->core to tell runtimes apart.
// Internal to the library (hidden visibility), so the TLS access is inlined where it is used.
extern thread_local worker* tls_worker;
/// The worker the calling thread is, or null.
inline worker* this_worker() noexcept { return tls_worker; }

/// Marks one task of `g` finished; wakes its waiters if it was the last. Never touches `g`
/// after the decrement that may let a waiter return and destroy it.
void finish_group_task(group_state& g) noexcept;

}  // namespace magpie::detail

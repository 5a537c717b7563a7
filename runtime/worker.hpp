// A worker: its deques (one per lane), its task pool, its parker, and the scheduling loop
//   own deques (LIFO, high lane first) -> injector (batch) -> steal -> spin -> park,
// with every starvation_limit dispatches a turn where a lower lane is looked at first.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
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
#include "magpie/detail/group_wait.hpp"  // finish_group_task, defined in worker.cpp
#include "magpie/detail/single_writer.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/detail/worker_base.hpp"
#include "magpie/ext/chase_lev_deque.hpp"
#include "topology.hpp"
#include "trace.hpp"

#include <concurrentqueue/concurrentqueue.h>

namespace magpie::detail {

class runtime_core;

/// Counters written only by their worker (relaxed load+store, no RMW), read by anyone.
struct worker_counters {
  std::atomic<std::uint64_t> begun{0};  // begun - ran: tasks running (nested ones included)
  std::atomic<std::uint64_t> ran{0};
  std::atomic<std::uint64_t> discarded{0};
  std::atomic<std::uint64_t> canceled{0};
  std::atomic<std::uint64_t> exceptions{0};
  std::atomic<std::uint64_t> stolen{0};
  std::atomic<std::uint64_t> steals_near{0};  // from a victim on the same NUMA node
  std::atomic<std::uint64_t> steals_far{0};
  std::atomic<std::uint64_t> injected{0};
  std::atomic<std::uint64_t> parks{0};
  std::atomic<bool> asleep{false};
  std::atomic<std::uint64_t> steal_attempts{0};
  std::atomic<std::uint64_t> wakeups{0};
  std::array<latency_recorder, lane_count> latency;
  activity doing{ran, discarded, canceled};  // stall marker and busy time (activity.hpp)

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
    single_writer_add(c, n);
  }
  static void bump(std::atomic<std::uint64_t>& c) noexcept { single_writer_add(c); }
};

class worker : public worker_base {
 public:
  worker(runtime_core& core, std::size_t index);

  /// Thread body, on a thread already bound to PU `bound` (-1: none): report on `started`, run
  /// until the runtime stops.
  void run_until_stopped(int bound, std::latch& started);
  /// task_group::wait on this worker: run other tasks until `g` has nothing outstanding.
  void help_until_done(group_state& g);
  /// task_group::wait_for on this worker: as help_until_done, but also returns at `deadline`
  /// (sleeping at most until then). True if `g` has nothing outstanding.
  bool help_until(group_state& g, std::chrono::steady_clock::time_point deadline);

  /// A detached task submitted by the task this worker runs (reserve() made room).
  void push_local(task* t, unsigned lane) noexcept { push(t, lane); }
  /// An empty task block from this worker's pool (may throw std::bad_alloc), after making room
  /// for one more push in every lane's deque, so that pushing it cannot throw.
  task* reserve_task() {
    for (lane_deque& l : lanes_)
      l.owner.reserve();
    return pool_.allocate();
  }
  void free_task(task* t) noexcept { pool_.release(t); }
  bool has_local_work() const noexcept;
  /// Tasks this worker is inside of (more than one when a task waits and helps).
  std::uint64_t running_tasks() const noexcept {
    // relaxed: shutdown polls this; a stale value only delays its decision to the next signal.
    return counters.begun.load(std::memory_order_relaxed) -
           counters.ran.load(std::memory_order_relaxed);
  }
  /// Tasks in this worker's deque of `lane` (approximate unless the worker is idle).
  std::size_t queued(unsigned lane) const noexcept { return lanes_[lane].owner.size_approx(); }
  ext::deque_thief<task*>& thief(unsigned lane) noexcept { return lanes_[lane].thief; }
  /// This worker's event ring, or null when config.trace is off.
  const trace_ring* trace() const noexcept { return trace_.get(); }
  void note_side_push() noexcept {
    ++side_tasks_;
    budget_ = countdown_ = 1;  // look at the side lanes from the next dispatch on
  }

  const std::size_t index;
  int bound_cpu = -1;  // written before `started` counts down, read after
  worker_counters counters;

 private:
  using time_point = std::chrono::steady_clock::time_point;
  template <class Done>
  void run_until(const Done& done, group_state* waiting_on,
                 time_point deadline = time_point::max());
  bool next_own_task(task*& t);
  template <class Done>
  [[gnu::noinline]] task* next_task_slow(const Done& done);
  template <class Done>
  task* pick(const Done& done);
  task* fair_turn();
  task* pop_side(unsigned lane);
  task* own_task();
  template <class Done>
  task* search(const Done& done);
  /// While searching: runs pieces of a loop posted on the loop board, if one is open
  /// (loop_broadcast.cpp). True if it did and still counts as searching.
  bool join_loop();
  void linger_on_board() noexcept;
  template <class Done>
  void park(const Done& done, group_state* waiting_on, time_point deadline);
  task* from_injector();
  task* from_injector(unsigned lane);
  task* steal_round();
  task* steal_lane(unsigned lane);
  task* steal_ring(const victim_ring& ring, unsigned lane);
  /// running -> searching. False when about half the workers search already (unless in
  /// latency mode): the caller must then park instead of searching.
  bool start_searching() noexcept;
  /// searching -> running (no-op when not searching): the caller found work or goes back to a
  /// waiting task. As the last searcher it wakes another worker if work is visible.
  void stop_searching() noexcept;
  /// running or searching -> listed as asleep. The caller must re-check for work (the group it
  /// announced, if any, included) and then call cancel_parking or sleep. Returns whether the
  /// worker was listed as inactive (then only its own deques concern its re-check).
  bool begin_parking(const group_state* announced);
  /// listed -> searching, after the re-check found work. False if a waker unlisted us first:
  /// call sleep, which then returns at once.
  bool cancel_parking();
  /// listed -> searching: sleeps until woken (true) or `deadline` (false). Either way the worker
  /// counts as searching on return.
  bool sleep(time_point deadline);
  /// The next dispatch takes the slow path (next_task_slow); the dispatches counted so far stay
  /// counted.
  void to_slow_path() noexcept {
    budget_ -= countdown_ - 1;
    countdown_ = 1;
  }
  [[gnu::always_inline]] void execute(task* t);
  [[gnu::always_inline]] void execute_own(task* t);
  [[gnu::noinline]] void execute_unusual(task* t, group_state* g);
  void skip_or_discard(task* t, group_state* g) noexcept;
  void run(task* t, group_state* g);
  void finish(task* t, group_state* g) noexcept;
  void finish_ran(group_state* g, bool local) noexcept;
  void note_steal(std::size_t victim, unsigned lane, steal_distance d) noexcept;
  void record_latency(const task& t) noexcept;
  void on_exception(group_state* g, std::exception_ptr e);
  std::uint64_t next_random() noexcept;

  // Owner-only state.
  std::array<moodycamel::ConsumerToken, lane_count> consumers_;
  std::uint64_t rng_;
  std::uint32_t tick_ = 0;        // dispatches since the injector's last fair look
  std::uint32_t fair_countdown_;  // dispatches until the next fair turn
  bool low_turn_ = false;         // whose fair turn was the last
  bool latency_mode_;             // one of config.latency_workers: searches instead of parking
  bool hand_off_ = false;         // woken beside the waker: let a worker elsewhere do the searching
  std::unique_ptr<trace_ring> trace_;  // config.trace; null (one branch per event site) if off
  // Written by wakers.
  parker parker_;
};

/// The worker the calling thread is (of any runtime), or null.
inline worker* this_worker() noexcept {
  return static_cast<worker*>(tls_worker);
}
/// The worker the calling thread is if it belongs to `core`, else null (worker_base_of).
inline worker* worker_of(const runtime_core& core) noexcept {
  return static_cast<worker*>(worker_base_of(core));
}

}  // namespace magpie::detail

// The runtime's shared state: configuration, workers, injector, idle set, shutdown. Its members
// are defined by concept: lifecycle in runtime_core.cpp, reservation and hand-over in submit.cpp,
// discards in discard.cpp, the stats snapshot in stats.cpp, the trace export in trace.cpp.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "futex.hpp"
#include "group_stop.hpp"
#include "held_registry.hpp"
#include "idle_set.hpp"
#include "injector.hpp"
#include "loop_board.hpp"
#include "magpie/config.hpp"
#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/steal_order.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/shutdown_report.hpp"
#include "magpie/stats.hpp"
#include "stall_monitor.hpp"
#include "topology.hpp"
#include "worker.hpp"

namespace magpie::detail {

class runtime_core {
  // Declared first: the members below are initialised from them.
  config cfg_;
  std::unique_ptr<topology> topo_;
  std::vector<int> plan_;  // PU per worker, -1 unbound (on a synthetic topology: not bound)
  victim_rings rings_;     // every worker's victims, near to far

 public:
  /// Validates `cfg` (std::invalid_argument naming the field), starts the workers.
  explicit runtime_core(config cfg, steal_order victims = steal_order::topology);
  ~runtime_core();
  runtime_core(const runtime_core&) = delete;
  runtime_core& operator=(const runtime_core&) = delete;

  std::size_t size() const noexcept { return workers_.size(); }
  const victim_rings& rings() const noexcept { return rings_; }
  worker& at(std::size_t i) noexcept { return *workers_[i]; }
  const config& cfg() const noexcept { return cfg_; }
  std::chrono::nanoseconds spin() const noexcept {
    return std::chrono::nanoseconds(spin_ns_.load(std::memory_order_relaxed));  // relaxed: a knob
  }
  /// Throws std::invalid_argument outside [0, 1 s].
  void set_spin(std::chrono::microseconds d);
  std::size_t starvation_limit() const noexcept { return cfg_.starvation_limit; }
  /// Throws std::invalid_argument outside [1, size()].
  void set_active_workers(std::size_t n);

  /// Where a submit goes; waits for room (max_pending) until `deadline`: time_point::max()
  /// waits as long as it takes, time_point::min() not at all.
  /// A detached task is refused (slot::closed) once shutdown began, even from a worker, so a
  /// task that keeps re-submitting itself cannot keep a drain from ending.
  reservation reserve(std::chrono::steady_clock::time_point deadline, bool detached = true);
  void release(reservation r) noexcept;
  /// A slot at the back of the injector, for a task that a worker queues behind the other work
  /// of its lane (a strand's runner yielding). Never waits: when the injector is full or the
  /// runtime is closing, the calling worker's own deque instead (a drain must still run it).
  reservation reserve_behind();
  /// For a thread off the workers that holds an injector slot already: a second one, never
  /// refused for a close or a full queue (it is for a task accepted earlier). See submit.cpp.
  reservation reserve_while_held();
  void submit_local(task* t, priority p) noexcept;
  void submit_injected(task& t, reservation r, priority p);
  runtime_stats stats() const;
  /// Throws std::logic_error if config.trace is off, std::system_error if `path` fails.
  void write_chrome_trace(const std::string& path) const;

  /// Any task visible in the injector or any deque. Used by parkers after their fence.
  bool has_visible_work() const noexcept;
  // seq_cst: these flags take part in Dekker pairs with submitters and parkers.
  bool closed() const noexcept { return flags_.closed.load(std::memory_order_seq_cst); }
  bool canceling() const noexcept { return flags_.canceling.load(std::memory_order_seq_cst); }
  bool stopping() const noexcept { return flags_.stopping.load(std::memory_order_seq_cst); }

  // The attention word: zero unless something unusual is pending, so a worker's dispatch and
  // execute look at one word on a quiet line and take the slow path that owns every policy
  // only when it is not zero. Low 40 bits: tasks in the injector's high lane (a hint that
  // never under-counts, see injector.hpp); above them, flags.
  static constexpr std::int64_t attention_inactive = std::int64_t{1} << 40;   // fewer active
  static constexpr std::int64_t attention_canceling = std::int64_t{1} << 41;  // discard all
  static constexpr std::int64_t attention_stopping = std::int64_t{1} << 42;   // workers exit
  static constexpr std::int64_t attention_tracing = std::int64_t{1} << 43;    // config.trace
  std::int64_t attention() const noexcept {
    // relaxed: a hint; each flag is also published through the idle set's lock or a wake-up
    // where a worker must not miss it (see set_active_workers and shutdown).
    return attention_.load(std::memory_order_relaxed);
  }

  /// A worker went to sleep after shutdown began or while wait_idle waits: let them re-test
  /// quiescence.
  void parked_while_closed() noexcept { quiesce_.signal_all(); }
  /// Someone is in wait_idle (seq_cst: read after a parker listed itself, paired with
  /// wait_idle's increment before its quiescence test).
  bool idle_awaited() const noexcept {
    return flags_.idle_waiters.load(std::memory_order_seq_cst) != 0;
  }
  /// Blocks until quiet() (or the workers stop); throws std::logic_error on a worker.
  void wait_idle();
  /// Tasks queued in the injector and every deque; approximate while busy.
  std::size_t pending() const noexcept;
  /// Tasks running now, from each worker's begun - ran counters.
  std::uint64_t running() const noexcept { return running_tasks(); }
  /// Workers took `n` tasks from the injector: give back capacity, wake submitters waiting.
  void made_room(std::size_t n) noexcept;
  void report_detached_exception(std::exception_ptr e) noexcept;

  /// Closes, runs or discards per `mode`, and joins. In drain mode, past `drain_deadline` it
  /// switches to cancel and returns without joining if only running tasks are left.
  shutdown_report shutdown(shutdown_mode mode,
                           std::chrono::steady_clock::time_point drain_deadline);
  /// The bookkeeping of every discard (the word's one meaning: discard.cpp's header): counted
  /// for config.on_discard, which shutdown calls later on its own thread, and its group `g` (if
  /// any) marked canceled so that its waiters learn of it. Never calls user code. The caller
  /// destroys the callable and finishes the task in its group.
  void note_discard(group_state* g, priority prio) noexcept;
  /// Drops a task that was accepted but held outside the queues (a semaphore's waiting task, a
  /// strand's queued task): destroys it unrun and counts it as discarded, as if shutdown had
  /// taken it from a queue. Any thread, any lock but the idle set's.
  void discard_held(task& t, priority prio) noexcept;
  std::vector<int> worker_cpus() const;

  alignas(cache_line) std::atomic<std::int64_t> attention_{0};
  injector inj{attention_};
  idle_set idle;
  loop_board loops;       // loops offered to searching workers (loop_broadcast.cpp)
  held_registry holders;  // semaphores and strands, for stats()
  stop_registry stops;    // task_group::stop_token sources (group_extras.cpp)

 private:
  void start_workers();
  void run_worker(std::size_t i, std::latch& built, std::latch& started, std::atomic<bool>& failed);
  void start_monitor();
  bool take_capacity(std::chrono::steady_clock::time_point deadline);
  [[gnu::noinline]] reservation reserve_injected(std::chrono::steady_clock::time_point deadline);
  void end_submit(producer& p) noexcept;
  void stop_and_join() noexcept;
  void start_canceling() noexcept;
  shutdown_report tally() const noexcept;
  bool quiet();
  void discard_queued() noexcept;
  void discard_swept(task& t, priority prio) noexcept;  // shutdown's thread, from a queue
  shutdown_report shutdown_locked(shutdown_mode mode,
                                  std::chrono::steady_clock::time_point drain_deadline,
                                  bool& joined);
  void deliver_discards() noexcept;
  bool nothing_but_running_tasks();
  std::uint64_t running_tasks() const noexcept;

  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<std::thread> threads_;
  struct alignas(cache_line) lifecycle_flags {
    std::atomic<bool> closed{false};     // no new external work
    std::atomic<bool> canceling{false};  // discard instead of run
    std::atomic<bool> stopping{false};   // quiescent: workers exit
    // Threads inside wait_idle.
    std::atomic<std::uint32_t> idle_waiters{0};
  } flags_;
  alignas(cache_line) std::atomic<std::int64_t> spin_ns_;
  alignas(cache_line) std::atomic<std::uint32_t> room_waiters_{0};
  tick_rate ticks_;
  epoch_signal room_;
  epoch_signal quiesce_;
  std::mutex shutdown_mu_;
  bool joined_ = false;
  std::atomic<std::uint64_t> discarded_swept_{0};  // written under shutdown_mu_
  std::atomic<std::uint64_t> discarded_held_{0};   // discard_held, from any thread
  // Discards not yet passed to config.on_discard, per lane (see deliver_discards).
  std::array<std::atomic<std::uint64_t>, lane_count> undelivered_discards_{};
  shutdown_report report_;
  std::unique_ptr<stall_monitor> monitor_;  // config.stall_threshold > 0 only
};

}  // namespace magpie::detail

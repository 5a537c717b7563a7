#include "runtime_core.hpp"

#include <algorithm>
#include <cstdio>
#include <latch>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

#include "config_check.hpp"

namespace magpie::detail {
namespace {

void print_exception(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "magpie: a detached task threw: %s\n", x.what());
  } catch (...) {
    std::fprintf(stderr, "magpie: a detached task threw a non-standard exception\n");
  }
}

}  // namespace

runtime_core::runtime_core(config cfg, steal_order victims)
    : cfg_(validated(std::move(cfg))),
      topo_(std::make_unique<topology>(cfg_.synthetic_topology)),
      plan_(topo_->plan(cfg_.pin, resolve_worker_counts(cfg_, *topo_), cfg_.cpus)),
      rings_(victims == steal_order::topology
                 ? topo_->rings(plan_)
                 : victim_rings(std::vector<placement>(plan_.size()))),  // unplaced: one ring
      idle(plan_.size()),
      spin_ns_(std::chrono::nanoseconds(cfg_.spin).count()) {
  if (cfg_.workers < plan_.size()) {  // config.max_workers: the rest start inactive, asleep
    // relaxed: the threads that read it are started after this (thread creation orders it).
    attention_.fetch_or(attention_inactive, std::memory_order_relaxed);
    idle.set_active(cfg_.workers);
  }
  start_workers();
  start_monitor();
}

void runtime_core::start_monitor() {
  if (cfg_.stall_threshold.count() == 0) return;
  std::vector<const activity*> doing;
  for (const auto& w : workers_)
    doing.push_back(&w->counters.doing);
  try {
    monitor_ =
        std::make_unique<stall_monitor>(std::move(doing), cfg_.stall_threshold, cfg_.on_stall);
  } catch (...) {
    stop_and_join();
    throw;
  }
}

// Each thread binds itself and then builds its worker, so the worker's deques, counters and
// pool are first touched, hence placed, on the worker's own NUMA node. No worker runs before
// all exist: thieves index every one of them.
void runtime_core::start_workers() {
  const std::size_t n = plan_.size();
  workers_.resize(n);
  std::latch built(static_cast<std::ptrdiff_t>(n));
  std::latch started(static_cast<std::ptrdiff_t>(n));
  std::atomic<bool> failed{false};
  try {
    for (std::size_t i = 0; i < n; ++i) {
      threads_.emplace_back(
          [this, &built, &started, &failed, i] { run_worker(i, built, started, failed); });
    }
  } catch (...) {
    failed.store(true);  // the latches below publish it to the threads already running
    for (std::size_t i = threads_.size(); i < n; ++i) {
      built.count_down();
      started.count_down();
    }
    started.wait();
    stop_and_join();
    throw;
  }
  started.wait();
  if (failed.load()) {
    stop_and_join();
    throw std::bad_alloc();
  }
  bool unbound = false;
  for (std::size_t i = 0; i < n; ++i)
    unbound = unbound || (plan_[i] >= 0 && !topo_->is_synthetic() && workers_[i]->bound_cpu < 0);
  if (!unbound) return;
  if (!cfg_.cpus.empty()) {
    stop_and_join();
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "config.cpus: binding a worker to its CPU failed");
  }
  std::fprintf(stderr,
               "magpie: could not pin every worker; unpinned ones run where the OS puts them\n");
}

void runtime_core::run_worker(std::size_t i, std::latch& built, std::latch& started,
                              std::atomic<bool>& failed) {
  // A synthetic topology's PUs do not exist here: its plan only shapes the victim rings.
  const bool bound = plan_[i] >= 0 && !topo_->is_synthetic() &&
                     topo_->bind_current_thread(static_cast<unsigned>(plan_[i]));
  try {
    workers_[i] = std::make_unique<worker>(*this, i);
  } catch (...) {
    failed.store(true);
  }
  built.arrive_and_wait();
  if (failed.load()) {
    started.count_down();
    return;
  }
  workers_[i]->run_until_stopped(bound ? plan_[i] : -1, started);
}

runtime_core::~runtime_core() {
  try {
    shutdown(shutdown_mode::drain, std::chrono::steady_clock::time_point::max());
  } catch (const std::logic_error& e) {
    // Unreachable through the public API: ~runtime hands this case to a helper thread.
    std::fprintf(stderr, "magpie: %s; aborting\n", e.what());
    std::abort();
  }
}

void runtime_core::set_spin(std::chrono::microseconds d) {
  validate_spin("magpie::runtime::set_spin", d);
  // relaxed: read at each search's start
  spin_ns_.store(std::chrono::nanoseconds(d).count(), std::memory_order_relaxed);
}

void runtime_core::set_active_workers(std::size_t n) {
  if (n < 1 || n > size()) {
    throw std::invalid_argument("magpie::runtime::set_active_workers: " + std::to_string(n) +
                                " is outside [1, " + std::to_string(size()) + "]");
  }
  // relaxed: set_active's lock hands the change to each sleeper; running workers see the flag
  // at their next dispatch, which is when the change is promised to take effect.
  if (n < size()) {
    attention_.fetch_or(attention_inactive, std::memory_order_relaxed);
  } else {
    attention_.fetch_and(~attention_inactive, std::memory_order_relaxed);
  }
  idle.set_active(n);
  idle.wake_after_publish();  // work queued while fewer workers were active may want the new ones
}

bool runtime_core::has_visible_work() const noexcept {
  if (!inj.empty_approx()) return true;
  for (const auto& w : workers_) {
    if (w->has_local_work()) return true;
  }
  return false;
}

void runtime_core::report_detached_exception(std::exception_ptr e) noexcept {
  if (!cfg_.on_exception) {
    print_exception(e);
    return;
  }
  try {
    cfg_.on_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "magpie: config.on_exception threw: %s; the original exception follows\n",
                 x.what());
    print_exception(e);
  } catch (...) {
    std::fprintf(stderr,
                 "magpie: config.on_exception threw a non-standard exception; the original "
                 "exception follows\n");
    print_exception(e);
  }
}

shutdown_report runtime_core::shutdown(shutdown_mode mode,
                                       std::chrono::steady_clock::time_point drain_deadline) {
  if (worker_of(*this) != nullptr) {
    throw std::logic_error(
        "magpie::runtime::shutdown called from one of the runtime's own workers");
  }
  bool joined = false;
  const shutdown_report r = shutdown_locked(mode, drain_deadline, joined);
  // Both outside shutdown_mu_: the callbacks may call shutdown() themselves. On the monitor's
  // own thread (on_stall called shutdown) stop() only asks it to end.
  if (joined && monitor_) monitor_->stop();
  deliver_discards();
  return r;
}

// The shutdown loop. Quiescence (every worker asleep, no submit in flight, nothing queued) can
// only be lost by a task that runs, and every worker that parks signals quiesce_ while the
// runtime is closed, so the loop reads quiesce_'s epoch before testing quiet(): a park between
// the test and the wait bumps the epoch and the wait returns at once (no lost wake-up). Past
// the deadline the canceling flag makes the workers discard instead of run; this thread also
// discards what sits in the queues, since a stuck worker's deque would otherwise wait for it,
// and it polls every millisecond because a running task may still queue more. Once only
// running tasks are left it reports them without joining: nothing can interrupt a task.
shutdown_report runtime_core::shutdown_locked(shutdown_mode mode,
                                              std::chrono::steady_clock::time_point drain_deadline,
                                              bool& joined) {
  std::lock_guard lock(shutdown_mu_);
  joined = true;
  if (joined_) return report_;
  if (mode == shutdown_mode::cancel) start_canceling();
  flags_.closed.store(true, std::memory_order_seq_cst);
  room_.signal_all();  // blocked submitters now see `closed`
  idle.wake_all();     // every worker re-checks the queues under the new flags, then parks
  bool drained = false;
  for (;;) {
    const std::uint32_t seen = quiesce_.read();
    if (quiet()) break;
    if (!drained && std::chrono::steady_clock::now() >= drain_deadline) {
      drained = true;  // out of time: discard the rest
      start_canceling();
      idle.wake_all();
      continue;
    }
    if (drained) {
      // Tasks queued behind a stuck worker would wait for it: discard them from here too.
      discard_queued();
      if (nothing_but_running_tasks()) {
        shutdown_report r = tally();  // joined later, by shutdown() or the destructor
        r.still_running = running_tasks();
        joined = false;
        return r;
      }
      // Running tasks may still queue more (discarded by the workers or the next pass).
      quiesce_.wait_until(seen, std::chrono::steady_clock::now() + std::chrono::milliseconds(1));
    } else if (drain_deadline == std::chrono::steady_clock::time_point::max()) {
      quiesce_.wait(seen);
    } else {
      quiesce_.wait_until(seen, drain_deadline);
    }
  }
  stop_and_join();
  report_ = tally();
  return report_;
}

void runtime_core::wait_idle() {
  if (worker_of(*this) != nullptr) {
    throw std::logic_error(
        "magpie::runtime::wait_idle called from one of the runtime's own workers");
  }
  // seq_cst: a parker that listed itself after our quiet() below reads this count and signals.
  flags_.idle_waiters.fetch_add(1, std::memory_order_seq_cst);
  struct leave {
    std::atomic<std::uint32_t>& n;
    ~leave() { n.fetch_sub(1, std::memory_order_relaxed); }  // relaxed: only a hint to signal
  } const guard{flags_.idle_waiters};
  for (;;) {
    const std::uint32_t seen = quiesce_.read();
    if (stopping() || quiet()) return;
    quiesce_.wait(seen);
  }
}

std::size_t runtime_core::pending() const noexcept {
  std::size_t n = 0;
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    n += inj.size_approx(lane);
    for (const auto& w : workers_)
      n += w->queued(lane);
  }
  return n;
}

// Every worker asleep, no submit in flight, nothing queued.
bool runtime_core::quiet() {
  return idle.all_workers_idle_and(
      [this] { return !inj.submits_in_flight() && !has_visible_work(); });
}

// After a cancel: every worker is asleep or inside a task, and nothing is queued, so only the
// running tasks are left (they may be stuck).
bool runtime_core::nothing_but_running_tasks() {
  std::size_t running = 0;
  for (const auto& w : workers_)
    running += w->running_tasks() != 0 ? 1 : 0;
  return idle.idle_workers() + running >= workers_.size() && !inj.submits_in_flight() &&
         !has_visible_work();
}

std::uint64_t runtime_core::running_tasks() const noexcept {
  std::uint64_t n = 0;
  for (const auto& w : workers_)
    n += w->running_tasks();
  return n;
}

void runtime_core::start_canceling() noexcept {
  flags_.canceling.store(true, std::memory_order_seq_cst);
  // relaxed: a hint for dispatch; the wake_all that follows every call publishes it too.
  attention_.fetch_or(attention_canceling, std::memory_order_relaxed);
}

void runtime_core::stop_and_join() noexcept {
  flags_.stopping.store(true, std::memory_order_seq_cst);
  quiesce_.signal_all();  // wait_idle callers: the workers will not park again
  // relaxed: every worker is asleep (quiet) and the wake_all below publishes it under a lock.
  attention_.fetch_or(attention_stopping, std::memory_order_relaxed);
  idle.wake_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  // The monitor stops after the join (a task stuck in a drain is still reported); shutdown()
  // joins it once shutdown_mu_ is released, since its on_stall may be waiting for that mutex.
  if (monitor_) monitor_->request_stop();
  joined_ = true;
}

shutdown_report runtime_core::tally() const noexcept {
  shutdown_report r;
  r.discarded = discarded_swept_.load(std::memory_order_relaxed);  // relaxed: see discard_swept
  r.discarded += discarded_held_.load(std::memory_order_relaxed);  // relaxed: see there
  for (const auto& w : workers_) {
    // relaxed: the workers were joined, which orders their last writes before these reads.
    r.ran += w->counters.ran.load(std::memory_order_relaxed);
    r.discarded += w->counters.discarded.load(std::memory_order_relaxed);
    r.canceled += w->counters.canceled.load(std::memory_order_relaxed);
    r.exceptions += w->counters.exceptions.load(std::memory_order_relaxed);
  }
  return r;
}

std::vector<int> runtime_core::worker_cpus() const {
  std::vector<int> out;
  for (const auto& w : workers_)
    out.push_back(w->bound_cpu);
  return out;
}

}  // namespace magpie::detail

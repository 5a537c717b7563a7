#include "runtime_core.hpp"

#include <algorithm>
#include <cstdio>
#include <latch>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

namespace magpie::detail {
namespace {

constexpr std::size_t max_workers = 4096;
constexpr std::chrono::milliseconds max_stall_threshold = std::chrono::hours(24);

// Checked in the caller's unit, before any conversion (microseconds::min() in nanoseconds
// overflows).
void validate_spin(const char* what, std::chrono::microseconds spin) {
  if (spin.count() < 0 || spin > std::chrono::seconds(1)) {
    throw std::invalid_argument(std::string(what) + ": must be between 0 and 1 s, got " +
                                std::to_string(spin.count()) + " us");
  }
}

void validate(const config& c) {
  if (c.workers > max_workers) {
    throw std::invalid_argument("config.workers: " + std::to_string(c.workers) +
                                " exceeds the limit of " + std::to_string(max_workers));
  }
  validate_spin("config.spin", c.spin);
  if (c.starvation_limit < 2 || c.starvation_limit > (std::size_t{1} << 20)) {
    throw std::invalid_argument("config.starvation_limit: must be between 2 and 2^20, got " +
                                std::to_string(c.starvation_limit));
  }
  if (c.stall_threshold.count() < 0 || c.stall_threshold > max_stall_threshold) {
    throw std::invalid_argument(
        "config.stall_threshold: must be between 0 and 86400000 ms (24 h), got " +
        std::to_string(c.stall_threshold.count()) + " ms");
  }
  if (c.trace && (c.trace_capacity == 0 || c.trace_capacity > (std::size_t{1} << 26))) {
    throw std::invalid_argument("config.trace_capacity: must be between 1 and 2^26, got " +
                                std::to_string(c.trace_capacity));
  }
}

// Validated, with a max_pending of 2^63 or more (SIZE_MAX, the natural "no bound"; the signed
// pending count cannot compare against it) meaning unbounded, as 0 does.
config validated(config c) {
  validate(c);
  if (c.max_pending > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()))
    c.max_pending = 0;
  return c;
}

std::size_t worker_total(const config& c, const topology& t) {
  if (!c.cpus.empty() && t.is_synthetic()) {
    // Explicit CPUs are a requirement; a described machine's PUs are never bound to.
    throw std::invalid_argument(std::string("config.cpus: explicit CPUs need this machine's "
                                            "topology, but it comes from ") +
                                t.source() + ", whose processing units are not bound to");
  }
  std::size_t n = c.workers;
  if (n == 0) n = !c.cpus.empty() ? c.cpus.size() : t.allowed_pus().size();
  if (n > max_workers) {  // one per PU of a (possibly described) machine with too many
    throw std::invalid_argument("config.workers: 0 means one per processing unit, " +
                                std::to_string(n) + " here, which exceeds the limit of " +
                                std::to_string(max_workers));
  }
  if (c.latency_workers > n) {
    throw std::invalid_argument("config.latency_workers: " + std::to_string(c.latency_workers) +
                                " exceeds the worker count " + std::to_string(n));
  }
  return n;
}

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

runtime_core::runtime_core(config cfg)
    : cfg_(validated(std::move(cfg))),
      topo_(std::make_unique<topology>(cfg_.synthetic_topology)),
      plan_(topo_->plan(cfg_.pin, worker_total(cfg_, *topo_), cfg_.cpus)),
      rings_(cfg_.victims == steal_order::topology
                 ? topo_->rings(plan_)
                 : victim_rings(std::vector<placement>(plan_.size()))),  // unplaced: one ring
      idle(plan_.size()),
      spin_ns_(std::chrono::nanoseconds(cfg_.spin).count()) {
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

reservation runtime_core::reserve(std::chrono::steady_clock::time_point deadline, bool detached) {
  if (worker* w = worker_of(*this)) {
    if (detached && closed()) return {slot::closed, {}};
    reservation r{slot::local, {}};
    r.block = w->reserve_task();
    return r;
  }
  return reserve_injected(deadline);
}

// Out of line: a spawn on a worker (the hot path above) then pays for no stack frame.
reservation runtime_core::reserve_injected(std::chrono::steady_clock::time_point deadline) {
  producer& p = inj.this_thread_producer();
  if (cfg_.max_pending != 0 && !take_capacity(deadline)) {
    return {closed() ? slot::closed : slot::full, {}};
  }
  // seq_cst: Dekker with shutdown, which stores `closed` and then sums in_flight: either we see
  // closed here, or shutdown sees this submit in flight and waits for its enqueue.
  p.in_flight.fetch_add(1, std::memory_order_seq_cst);
  if (closed()) {
    release({slot::injector, {&p}});
    return {slot::closed, {}};
  }
  return {slot::injector, {&p}};
}

reservation runtime_core::reserve_behind() {
  const reservation r = reserve_injected(std::chrono::steady_clock::time_point::min());
  return r.kind == slot::injector ? r
                                  : reserve(std::chrono::steady_clock::time_point::max(), false);
}

// Blocks until a max_pending slot is free or `deadline` passes; false if full then, or closed.
bool runtime_core::take_capacity(std::chrono::steady_clock::time_point deadline) {
  using clock = std::chrono::steady_clock;
  for (;;) {
    if (inj.try_take_capacity(cfg_.max_pending)) return true;
    if (closed() || deadline == clock::time_point::min()) return false;
    const bool forever = deadline == clock::time_point::max();
    if (!forever && clock::now() >= deadline) return false;
    // seq_cst: Dekker with made_room (workers give capacity back, then read room_waiters_).
    room_waiters_.fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t seen = room_.read();
    const bool taken = inj.try_take_capacity(cfg_.max_pending);
    if (!taken && !closed()) {
      if (forever) {
        room_.wait(seen);
      } else {
        room_.wait_until(seen, deadline);
      }
    }
    room_waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only a hint for made_room
    if (taken) return true;
  }
}

void runtime_core::release(reservation r) noexcept {
  if (r.kind == slot::local) free_task(r.block);  // never built
  if (r.kind != slot::injector) return;
  if (cfg_.max_pending != 0) inj.give_capacity(1);
  end_submit(*r.from);
}

void runtime_core::end_submit(producer& p) noexcept {
  // seq_cst: if shutdown's store of `closed` is not seen below, its later sum of in_flight sees
  // this decrement (both are in the single total order); otherwise we wake it to look again.
  p.in_flight.fetch_sub(1, std::memory_order_seq_cst);
  if (closed() || idle_awaited()) quiesce_.signal_all();
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
  idle.notify_one();  // work queued while fewer workers were active may want the new ones
}

void runtime_core::submit_local(task* t, priority p) noexcept {
  if (t->group() == nullptr) t->stamp(lane_of(p), clock_ticks());
  this_worker()->push_local(t, lane_of(p));  // wakes a sleeper if needed
}

void runtime_core::submit_injected(task& t, reservation r, priority p) {
  if (t.group() == nullptr) t.stamp(lane_of(p), clock_ticks());
  if (!inj.push(*r.from, std::move(t), lane_of(p))) {
    group_state* g = t.group();
    t.discard();
    release(r);
    if (g != nullptr) finish_group_task(*g);
    throw std::bad_alloc();
  }
  idle.notify_one();
  end_submit(*r.from);
}

void runtime_core::made_room(std::size_t n) noexcept {
  if (cfg_.max_pending == 0) return;
  inj.give_capacity(n);
  // seq_cst: Dekker with take_capacity (see there).
  if (room_waiters_.load(std::memory_order_seq_cst) != 0) room_.signal_all();
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

void runtime_core::discard_queued() noexcept {
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    task t;
    while (inj.try_pop(lane, t)) {
      made_room(1);
      discard(t, static_cast<priority>(lane));
    }
    for (const auto& w : workers_) {
      for (;;) {
        const auto r = w->thief(lane).steal();
        if (r.status == ext::steal_status::empty) break;
        if (r.status != ext::steal_status::success) continue;
        discard(*r.value, static_cast<priority>(lane));
        task_pool::release_unpooled(r.value);  // blocks are plain operator new allocations
      }
    }
  }
}

// Destroys t's callable unrun and accounts for it as discarded (the caller frees t's block).
void runtime_core::discard(task& t, priority lane) noexcept {
  group_state* g = t.group();
  t.discard();
  // relaxed: read by tally() under the same mutex as this write (shutdown_mu_).
  discarded_by_shutdown_.store(discarded_by_shutdown_.load(std::memory_order_relaxed) + 1,
                               std::memory_order_relaxed);
  report_discard(lane);
  if (g != nullptr) {
    g->request_cancel(group_state::by_user);  // advisory, as in execute()
    finish_group_task(*g);  // never the home's own count: this thread is not a worker
  }
}

void runtime_core::discard_held(task& t, priority lane) noexcept {
  group_state* g = t.group();
  t.discard();
  // relaxed: a count read by tally() after the workers were joined (or approximately).
  discarded_held_.fetch_add(1, std::memory_order_relaxed);
  report_discard(lane);
  if (g != nullptr) {
    g->request_cancel(group_state::by_user);
    finish_group_task(*g);
  }
}

void runtime_core::start_canceling() noexcept {
  flags_.canceling.store(true, std::memory_order_seq_cst);
  // relaxed: a hint for dispatch; the wake_all that follows every call publishes it too.
  attention_.fetch_or(attention_canceling, std::memory_order_relaxed);
}

void runtime_core::report_discard(priority p) noexcept {
  if (!cfg_.on_discard) return;
  // relaxed: exchanged by the shutdown thread, which needs the count, not an ordering.
  undelivered_discards_[lane_of(p)].fetch_add(1, std::memory_order_relaxed);
}

// config.on_discard, once per discard counted so far, on the shutdown thread and outside any
// lock: a handler may call shutdown() or stats(), and a task it submits here is refused with
// runtime_closed instead of being discarded in turn (which would never end).
void runtime_core::deliver_discards() noexcept {
  if (!cfg_.on_discard) return;
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    for (std::uint64_t n = undelivered_discards_[lane].exchange(0, std::memory_order_relaxed);
         n != 0; --n) {
      try {
        cfg_.on_discard(static_cast<priority>(lane));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "magpie: config.on_discard threw: %s; ignored\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "magpie: config.on_discard threw a non-standard exception; ignored\n");
      }
    }
  }
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
  r.discarded = discarded_by_shutdown_.load(std::memory_order_relaxed);  // relaxed: see discard
  r.discarded += discarded_held_.load(std::memory_order_relaxed);        // relaxed: see there
  for (const auto& w : workers_) {
    // relaxed: the workers were joined, which orders their last writes before these reads.
    r.ran += w->counters.ran.load(std::memory_order_relaxed);
    r.discarded += w->counters.discarded.load(std::memory_order_relaxed);
    r.canceled += w->counters.canceled.load(std::memory_order_relaxed);
    r.exceptions += w->counters.exceptions.load(std::memory_order_relaxed);
  }
  return r;
}

runtime_stats runtime_core::stats() const {
  runtime_stats out;
  const double ns_per_tick = ticks_.ns_per_tick();
  const auto to_ns = [ns_per_tick](std::uint64_t ticks) {
    return static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick + 0.5);
  };
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    latency_histogram& h = out.latency[lane];
    std::uint64_t max_ticks = 0;
    for (std::size_t b = 0; b < latency_recorder::bucket_count; ++b) {
      std::uint64_t n = 0;
      for (const auto& w : workers_)
        n += w->counters.latency[lane].count(b);
      if (n != 0) h.buckets.push_back({to_ns(latency_recorder::upper_edge(b)), n});
      h.count += n;
    }
    std::uint64_t sum_ticks = 0;
    for (const auto& w : workers_) {
      max_ticks = std::max(max_ticks, w->counters.latency[lane].max());
      sum_ticks += w->counters.latency[lane].sum();
    }
    h.sum_ns = to_ns(sum_ticks);
    h.max_ns = to_ns(max_ticks);
    out.queued[lane] = inj.size_approx(lane);
    for (const auto& w : workers_)
      out.queued[lane] += w->queued(lane);
  }
  out.pending = cfg_.max_pending != 0
                    ? inj.pending()
                    : inj.size_approx(0) + inj.size_approx(1) + inj.size_approx(2);
  out.semaphore_waiting = holders.sum(held_source::kind::semaphore);
  out.strand_queued = holders.sum(held_source::kind::strand);
  const std::uint64_t now = clock_ticks();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const worker_counters& c = workers_[i]->counters;
    // relaxed: a snapshot of single-writer counters; each value is recent, not a consistent cut.
    const auto get = [](const std::atomic<std::uint64_t>& v) {
      return v.load(std::memory_order_relaxed);
    };
    worker_stats s;
    s.cpu = workers_[i]->bound_cpu;
    s.tasks_run = get(c.ran);
    s.stolen = get(c.stolen);
    s.injected = get(c.injected);
    s.parks = get(c.parks);
    s.discarded = get(c.discarded);
    s.canceled = get(c.canceled);
    s.exceptions = get(c.exceptions);
    s.spawned = get(workers_[i]->spawned);
    s.steal_attempts = get(c.steal_attempts);
    s.wakeups = get(c.wakeups);
    s.busy_ns = to_ns(c.doing.busy_ticks(now));
    s.steals_near = get(c.steals_near);
    s.steals_far = get(c.steals_far);
    s.active = i < idle.active();
    s.asleep = c.asleep.load(std::memory_order_relaxed);  // relaxed: a statistic
    if (monitor_) {
      const stall_monitor::view v = monitor_->look(i);
      s.stalled = v.stalled;
      s.current_task_ns = v.running_ns;
    }
    out.workers.push_back(s);
  }
  return out;
}

void runtime_core::write_chrome_trace(const std::string& path) const {
  if (!cfg_.trace) {
    throw std::logic_error("magpie::runtime::write_chrome_trace: config.trace is off");
  }
  std::vector<const trace_ring*> rings;
  for (const auto& w : workers_)
    rings.push_back(w->trace());
  detail::write_chrome_trace(path, rings, ticks_.origin(), ticks_.ns_per_tick());
}

std::vector<int> runtime_core::worker_cpus() const {
  std::vector<int> out;
  for (const auto& w : workers_)
    out.push_back(w->bound_cpu);
  return out;
}

}  // namespace magpie::detail

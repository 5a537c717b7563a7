#include "worker.hpp"

#include <chrono>

#include "clock.hpp"
#include "futex.hpp"
#include "magpie/detail/fence.hpp"
#include "runtime_core.hpp"

namespace magpie::detail {
namespace {

// Every this many local tasks a worker looks at the injector first, so a worker whose tasks keep
// spawning cannot starve external submissions (Go checks its global queue every 61 ticks).
constexpr std::uint32_t injector_fairness_period = 61;

}  // namespace

thread_local worker* tls_worker = nullptr;

worker::worker(runtime_core& c, std::size_t i)
    : core(c),
      index(i),
      consumers_{{moodycamel::ConsumerToken(c.inj.raw(0)), moodycamel::ConsumerToken(c.inj.raw(1)),
                  moodycamel::ConsumerToken(c.inj.raw(2))}},
      rng_(0x9e3779b97f4a7c15ull * (i + 1)),
      latency_mode_(i < c.cfg().latency_workers) {
  if (c.cfg().trace) trace_ = std::make_unique<trace_ring>(c.cfg().trace_capacity);
}

bool worker::has_local_work() const noexcept {
  for (const lane_deque& l : lanes_)
    if (!l.deque.empty_approx()) return true;
  return false;
}

void worker::main(int cpu, std::latch& started) {
  if (cpu >= 0 && core.bind(static_cast<unsigned>(cpu))) bound_cpu = cpu;
  parker_.cpu = bound_cpu;
  tls_worker = this;
  counters.doing.got_busy();  // not searching yet
  started.count_down();
  run_until([this] { return core.stopping(); }, nullptr);
  counters.doing.went_idle();  // woken to stop: busy time is final
  tls_worker = nullptr;
}

void worker::help_until_done(group_state& g) {
  run_until([&g] { return g.pending() == 0; }, &g);
  // A wake-up counted us as searching; we go back to the task that waited, so stop searching.
  if (searching_) leave_search();
  counters.doing.got_busy();  // back in the waiting task (if we searched or parked meanwhile)
}

template <class Done>
void worker::run_until(const Done& done, group_state* waiting_on) {
  for (;;) {
    if (done()) return;
    if (task* t = next_task(done)) {
      // A woken worker counts as searching; it must stop before running anything, or producers
      // would trust a busy "searcher" to pick up their work and wake nobody.
      if (searching_) leave_search();
      execute(t);
    } else if (!done()) {
      park(done, waiting_on);
    }
  }
}

// Highest lane first: urgent work from outside (one load of a quiet line when there is none),
// then this worker's own deques. Every starvation_limit dispatches, fair_turn gives the low lane
// the first look, and half-way between, the normal lane.
template <class Done>
task* worker::next_task(const Done& done) {
  task* t = nullptr;
  ++fair_tick_;
  if ((fair_tick_ == core.starvation_limit() / 2 || fair_tick_ >= core.starvation_limit()) &&
      (t = fair_turn()) != nullptr) {
    return t;
  }
  if ((t = from_injector(lane_of(priority::high))) != nullptr) return t;
  if ((t = pop_local(lane_of(priority::high))) != nullptr) return t;
  if (++tick_ == injector_fairness_period) {
    tick_ = 0;
    if ((t = from_injector()) != nullptr) return t;
  }
  if (lanes_[normal_lane].owner.pop(t)) return t;
  if ((t = pop_local(lane_of(priority::low))) != nullptr) return t;
  if ((t = from_injector()) != nullptr) return t;
  return search(done);
}

task* worker::fair_turn() {
  const bool low_turn = fair_tick_ >= core.starvation_limit();
  const unsigned lane = low_turn ? lane_of(priority::low) : normal_lane;
  if (low_turn) fair_tick_ = 0;
  if (task* t = pop_local(lane)) return t;
  return from_injector(lane);
}

// Looks before popping: a pop from an empty Chase-Lev deque costs a fence.
task* worker::pop_local(unsigned lane) {
  task* t = nullptr;
  if (lanes_[lane].owner.empty_approx() || !lanes_[lane].owner.pop(t)) return nullptr;
  return t;
}

namespace {

// Output iterator for moodycamel's dequeue_bulk: each task taken from the queue is moved
// (relocated) straight into a block of the worker's pool, whose blocks were reserved beforehand
// so that the assignment cannot throw.
class into_pool {
 public:
  into_pool(task_pool& pool, task** out) : pool_(&pool), out_(out) {}
  into_pool& operator*() noexcept { return *this; }
  into_pool& operator++() noexcept {
    ++out_;
    return *this;
  }
  into_pool operator++(int) noexcept {
    into_pool before = *this;
    ++out_;
    return before;
  }
  into_pool& operator=(task&& t) noexcept {
    *out_ = pool_->allocate();  // cannot throw: reserved
    **out_ = std::move(t);
    return *this;
  }

 private:
  task_pool* pool_;
  task** out_;
};

}  // namespace

task* worker::from_injector() {
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    if (task* t = from_injector(lane)) return t;
  }
  return nullptr;
}

task* worker::from_injector(unsigned lane) {
  if (lane != normal_lane && !core.inj.may_have(lane)) return nullptr;
  task* batch[injector::batch];
  pool_.reserve(injector::batch);
  const std::size_t n =
      core.inj.pop_bulk(consumers_[lane], lane, into_pool(pool_, batch), injector::batch);
  if (n == 0) return nullptr;
  worker_counters::add(counters.injected, n);
  // Keep the rest in our deque, where idle workers can steal them: we pop them in queue order
  // (batch[1] next), thieves take the newest from the other end.
  for (std::size_t i = n; i-- > 1;)
    lanes_[lane].owner.push(batch[i]);
  if (n > 1) core.idle.notify_one();
  core.made_room(n);
  return batch[0];
}

template <class Done>
task* worker::search(const Done& done) {
  // Woken on our waker's CPU for a task we have now run: spinning here would compete with the
  // waker (on a machine with no spare core this co-location put ~3 us into every wake-up), so
  // wake a worker on another CPU to search instead, and park.
  counters.doing.went_idle();  // a run of work ends here (busy time is counted per run)
  if (hand_off_) {
    hand_off_ = false;
    if (!searching_ && core.idle.hand_off_search(bound_cpu)) return nullptr;
  }
  if (!searching_) {
    if (!core.idle.try_begin_search(latency_mode_)) return nullptr;  // enough searchers: park
    searching_ = true;
  }
  const auto spin = core.spin();
  const auto deadline = std::chrono::steady_clock::now() + spin;
  // Latency mode searches until it finds work, but not once the runtime is closed: shutdown
  // waits for every worker to sleep.
  const auto keep_searching = [this] { return latency_mode_ && !core.closed(); };
  for (;;) {
    task* t = steal_round();
    if (t == nullptr) t = from_injector();
    if (t != nullptr) {
      leave_search();
      counters.doing.got_busy();
      return t;
    }
    if (done()) {
      leave_search();
      return nullptr;
    }
    if (!keep_searching() && (spin.count() == 0 || std::chrono::steady_clock::now() >= deadline)) {
      return nullptr;
    }
    for (int i = 0; i < 16; ++i)
      cpu_relax();
  }
}

task* worker::steal_round() {
  if (core.size() < 2) return nullptr;
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    if (task* t = steal_lane(lane)) return t;
  }
  return nullptr;
}

task* worker::steal_lane(unsigned lane) {
  const std::size_t n = core.size();
  const std::size_t start = static_cast<std::size_t>(next_random() % n);
  for (bool retry = true; retry;) {
    retry = false;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t v = (start + k) % n;
      if (v == index) continue;
      ext::deque_thief<task*>& victim = core.at(v).thief(lane);
      if (victim.empty_approx()) continue;  // a steal from an empty deque costs a fence
      const auto r = victim.steal();
      worker_counters::bump(counters.steal_attempts);
      if (r.status == ext::steal_status::success) {
        note_steal(v, lane);
        return r.value;
      }
      // A lost race is not "empty": someone took an item there, so sweep again.
      retry = retry || r.status == ext::steal_status::retry;
    }
  }
  return nullptr;
}

void worker::leave_search() {
  searching_ = false;
  // The last searcher wakes another if work is still visible, so a burst spreads one worker at
  // a time (Tokio, Go), but a lone task does not pay for a futex wake before it starts.
  // The fence pairs with a producer's (idle_set::notify_one): either it saw us searching and
  // our re-check below sees its task, or it saw no searcher and woke someone itself.
  if (!core.idle.end_search()) return;
  dekker_fence();
  if (core.has_visible_work()) core.idle.wake_if_no_searcher();
}

template <class Done>
void worker::park(const Done& done, group_state* waiting_on) {
  core.idle.prepare_park(parker_, searching_, waiting_on);
  searching_ = false;
  if (core.closed()) core.parked_while_closed();
  bool wake = core.has_visible_work();
  if (!wake) {
    // A group waiter announces itself in the group's word (see group_state): either the last
    // task's decrement sees the bit and wakes us, or we see zero here.
    wake = waiting_on != nullptr
               ? (waiting_on->word.fetch_or(group_state::waiter_bit, std::memory_order_seq_cst) /
                  group_state::one_task) == 0
               : done();
  }
  if (wake && core.idle.cancel_park(parker_)) {
    searching_ = true;
    counters.doing.got_busy();
    return;
  }
  worker_counters::bump(counters.parks);
  if (trace_) trace_->instant(trace_kind::park, clock_ticks());
  idle_set::commit_park(parker_);
  worker_counters::bump(counters.wakeups);
  if (trace_) trace_->instant(trace_kind::wake, clock_ticks());
  searching_ = true;  // the waker counted us as searching
  hand_off_ = parker_.woken_beside_waker;
  counters.doing.got_busy();
}

void worker::note_steal(std::size_t victim, unsigned lane) noexcept {
  worker_counters::bump(counters.stolen);
  if (trace_) {
    trace_->instant(trace_kind::steal, clock_ticks(),
                    static_cast<std::uint32_t>(victim << 2 | lane));
  }
}

void worker::record_latency(const task& t) noexcept {
  // A clock read on another CPU may be a little ahead of ours; a negative difference counts 0.
  const std::uint64_t now = clock_ticks() & (~std::uint64_t{0} >> 3);  // stamps keep 61 bits
  const std::uint64_t at = t.stamped_at();
  counters.latency[t.lane()].record(now > at ? now - at : 0);
}

void worker::execute(task* t) {
  group_state* g = t->group();
  if (core.canceling() || (g != nullptr && g->canceled.load(std::memory_order_relaxed))) {
    // relaxed (canceled): a racing cancel may let one more task start, which cancel() allows.
    const bool discarding = core.canceling();
    free_task(t);  // destroys the callable unrun
    worker_counters::bump(discarding ? counters.discarded : counters.canceled);
    if (g != nullptr) {
      if (discarding) g->canceled.store(true, std::memory_order_relaxed);
      finish_group_task(*g);
    }
    return;
  }
  if (t->detached()) record_latency(*t);  // group tasks are not timed (see stats.hpp)
  if (trace_) [[unlikely]] {
    run_traced(t, g);  // out of line: tracing off costs this one branch per task
  } else {
    run(t, g);
  }
  worker_counters::bump(counters.ran);  // also the stall monitor's marker (activity.hpp)
  free_task(t);
  if (g != nullptr) finish_group_task(*g);
}

inline void worker::run(task* t, group_state* g) {
  group_state* outer = current_group_;
  current_group_ = g;
  try {
    t->run();
  } catch (...) {
    on_exception(g, std::current_exception());
  }
  current_group_ = outer;
}

// A task is recorded when it ends, with its start: one event, and a task still running (or
// stuck) is simply not in the trace yet.
void worker::run_traced(task* t, group_state* g) {
  const unsigned lane = g != nullptr ? lane_of(g->lane) : t->lane();
  const std::uint64_t from = clock_ticks();
  run(t, g);
  trace_->task(from, clock_ticks(), lane);
}

void worker::on_exception(group_state* g, std::exception_ptr e) {
  if (g == nullptr) {
    worker_counters::bump(counters.exceptions);
    core.report_detached_exception(std::move(e));
    return;
  }
  // acq_rel: exactly one task claims the slot; the waiter reads `error` after the group's count
  // reaches zero, which the claimant's later decrement (acq_rel) orders after this write.
  if (!g->error_claimed.exchange(true, std::memory_order_acq_rel)) g->error = std::move(e);
  // relaxed: cancellation is advisory; tasks already running finish.
  g->canceled.store(true, std::memory_order_relaxed);
}

std::uint64_t worker::next_random() noexcept {
  // xorshift64: cheap, per-worker, good enough to spread victim choices.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

void finish_group_task(group_state& g) noexcept {
  idle_set& idle = g.core->idle;  // read before the decrement: `g` may die right after it
  const group_state* key = &g;
  // acq_rel: release publishes this task's effects to the waiter that sees zero.
  const std::uint64_t before = g.word.fetch_sub(group_state::one_task, std::memory_order_acq_rel);
  if (before / group_state::one_task == 1 && (before & group_state::waiter_bit) != 0) {
    idle.notify_group(key);
  }
}

void free_task(task* t) noexcept {
  if (worker* w = tls_worker) {
    w->free_task(t);
  } else {
    task_pool::release_unpooled(t);
  }
}

}  // namespace magpie::detail

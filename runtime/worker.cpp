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

// Between two rounds of a search. A pause is ~65 cycles on AMD Zen 2 and ~140 on recent Intel
// cores; each one is latency added to a submission that arrives meanwhile. 16 made the spinning
// wake-up p50 0.51 us here, 4 makes it 0.34 us, with fib, skynet and submit unchanged.
constexpr int pauses_between_rounds = 4;

}  // namespace

thread_local worker* tls_worker = nullptr;

worker::worker(runtime_core& c, std::size_t i)
    : core(c),
      index(i),
      consumers_{{moodycamel::ConsumerToken(c.inj.raw(0)), moodycamel::ConsumerToken(c.inj.raw(1)),
                  moodycamel::ConsumerToken(c.inj.raw(2))}},
      rng_(0x9e3779b97f4a7c15ull * (i + 1)),
      fair_countdown_(c.starvation_limit() / 2),
      latency_mode_(i < c.cfg().latency_workers) {
  if (c.cfg().trace) trace_ = std::make_unique<trace_ring>(c.cfg().trace_capacity);
}

bool worker::has_local_work() const noexcept {
  for (const lane_deque& l : lanes_)
    if (!l.deque.empty_approx()) return true;
  return false;
}

void worker::main(int bound, std::latch& started) {
  bound_cpu = bound;
  parker_.cpu = bound_cpu;
  parker_.worker_index = index;
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

bool worker::help_until(group_state& g, time_point deadline) {
  run_until(
      [&g, deadline] { return g.pending() == 0 || std::chrono::steady_clock::now() >= deadline; },
      &g, deadline);
  if (searching_) leave_search();
  return g.pending() == 0;
}

template <class Done>
void worker::run_until(const Done& done, group_state* waiting_on, time_point deadline) {
  for (;;) {
    if (done()) return;
    if (task* t = next_task(done)) {
      // A woken worker counts as searching; it must stop before running anything, or producers
      // would trust a busy "searcher" to pick up their work and wake nobody.
      if (searching_) leave_search();
      execute(t);
    } else if (!done()) {
      park(done, waiting_on, deadline);
    }
  }
}

// Highest lane first: urgent work from outside (one load of a quiet line when there is none),
// then this worker's own deques. Every starvation_limit dispatches, fair_turn gives the low lane
// the first look, and half-way between, the normal lane.
template <class Done>
task* worker::next_task(const Done& done) {
  constexpr unsigned high = lane_of(priority::high), low = lane_of(priority::low);
  task* t = nullptr;
  if (index >= core.idle.active()) return own_task();  // parked by set_active_workers
  if (--fair_countdown_ == 0 && (t = fair_turn()) != nullptr) return t;
  if (core.inj.may_have(high) && (t = from_injector(high)) != nullptr) return t;
  if (side_tasks_ != 0 && (t = pop_side(high)) != nullptr) return t;
  if (++tick_ == injector_fairness_period) {
    tick_ = 0;
    if ((t = from_injector()) != nullptr) return t;
  }
  if (lanes_[normal_lane].owner.pop(t)) return t;
  if (side_tasks_ != 0 && (t = pop_side(low)) != nullptr) return t;
  if ((t = from_injector()) != nullptr) return t;
  return search(done);
}

// An inactive worker only finishes its own deques (thieves may help), then sleeps.
task* worker::own_task() {
  task* t = nullptr;
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    if (lanes_[lane].owner.pop(t)) return t;
  }
  side_tasks_ = 0;
  return nullptr;
}

// Every K/2 dispatches, low and normal take turns at being looked at first, so each gets the
// first look at least once every K dispatches.
task* worker::fair_turn() {
  fair_countdown_ = core.starvation_limit() / 2;
  low_turn_ = !low_turn_;
  const unsigned lane = low_turn_ ? lane_of(priority::low) : normal_lane;
  task* t = nullptr;
  if (lane == normal_lane ? lanes_[lane].owner.pop(t) : (t = pop_side(lane)) != nullptr) return t;
  return from_injector(lane);
}

task* worker::pop_side(unsigned lane) {
  task* t = nullptr;
  if (lanes_[lane].owner.pop(t)) {
    --side_tasks_;
    return t;
  }
  // Thieves may have taken what we counted: once both side deques are empty the count is exact.
  if (lanes_[lane_of(priority::high)].owner.empty_approx() &&
      lanes_[lane_of(priority::low)].owner.empty_approx()) {
    side_tasks_ = 0;
  }
  return nullptr;
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
    push_lane(batch[i], lane);
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
  const auto keep_searching = [this] {
    return latency_mode_ && !core.closed() && index < core.idle.active();
  };
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
    for (int i = 0; i < pauses_between_rounds; ++i)
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

// Near to far (docs/topology.md): each ring is swept from a random start, and the thief moves
// out only after a whole ring came back empty, so work stays within a core, an L3, a NUMA node
// while there is any there.
task* worker::steal_lane(unsigned lane) {
  const victim_rings& rings = core.rings();
  for (std::size_t k = 0; k < rings.ring_count(index); ++k) {
    if (task* t = steal_ring(rings.ring(index, k), lane)) return t;
  }
  return nullptr;
}

task* worker::steal_ring(const victim_ring& ring, unsigned lane) {
  const std::size_t n = ring.size();
  const std::size_t start = static_cast<std::size_t>(next_random() % n);
  for (bool retry = true; retry;) {
    retry = false;
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = start + k;
      if (i >= n) i -= n;
      ext::deque_thief<task*>& victim = core.at(ring[i]).thief(lane);
      if (victim.empty_approx()) continue;  // a steal from an empty deque costs a fence
      const auto r = victim.steal();
      worker_counters::bump(counters.steal_attempts);
      if (r.status == ext::steal_status::success) {
        note_steal(ring[i], lane, ring.distance());
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
void worker::park(const Done& done, group_state* waiting_on, time_point deadline) {
  counters.doing.went_idle();  // already so after a search; not for an inactive worker
  // An inactive worker does not look for work, so a wake-up meant to make it search goes on.
  if (searching_ && index >= core.idle.active()) leave_search();
  const bool inactive = core.idle.prepare_park(parker_, searching_, waiting_on);
  searching_ = false;
  if (core.closed()) core.parked_while_closed();
  // Inactive (decided under the idle set's lock): only its own deques concern it, and becoming
  // active again wakes it explicitly.
  bool wake = inactive ? has_local_work() : core.has_visible_work();
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
  counters.asleep.store(true, std::memory_order_relaxed);  // relaxed: a statistic
  if (trace_) trace_->instant(trace_kind::park, clock_ticks());
  bool timed_out = false;
  if (deadline == time_point::max()) {
    idle_set::commit_park(parker_);
  } else {
    timed_out = !core.idle.commit_park_until(parker_, deadline);
  }
  counters.asleep.store(false, std::memory_order_relaxed);
  if (!timed_out) worker_counters::bump(counters.wakeups);
  if (trace_) trace_->instant(trace_kind::wake, clock_ticks());
  if (timed_out) {
    searching_ = true;  // timed out: unlisted and counted as searching, as after cancel_park
    counters.doing.got_busy();
    return;
  }
  searching_ = true;  // the waker counted us as searching
  hand_off_ = parker_.woken_beside_waker;
  counters.doing.got_busy();
}

void worker::note_steal(std::size_t victim, unsigned lane, steal_distance d) noexcept {
  worker_counters::bump(counters.stolen);
  worker_counters::bump(is_near(d) ? counters.steals_near : counters.steals_far);
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

// Out of line and cold: inlined, it made every execute save and restore more registers.
[[gnu::noinline, gnu::cold]] void worker::skip(task* t, group_state* g) noexcept {
  const bool discarding = core.canceling();
  const priority lane = g != nullptr ? g->lane : static_cast<priority>(t->lane());
  free_task(t);  // destroys the callable unrun
  if (discarding) core.report_discard(lane);
  worker_counters::bump(discarding ? counters.discarded : counters.canceled);
  if (g != nullptr) {
    if (discarding) g->canceled.store(true, std::memory_order_relaxed);
    finish_group_task(*g);
  }
}

void worker::execute(task* t) {
  group_state* g = t->group();
  if (core.canceling() || (g != nullptr && g->cancel_requested())) [[unlikely]] {
    // A racing cancel may let one more task start, which cancel() allows.
    skip(t, g);
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
  worker_counters::bump(counters.begun);
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
  // Cancellation is advisory; tasks already running finish. It reaches the groups below `g`.
  g->request_cancel();
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

// Over the ~400-line mark on purpose: the dispatch loop (run_until and its Done-templated search
// and park) and the task execution it inlines (execute, execute_own, run, finish_ran,
// finish_group_task) form one hot path, which must stay in one unit to inline without LTO.
#include "worker.hpp"

#include <chrono>

#include "clock.hpp"
#include "futex.hpp"
#include "magpie/detail/debug_check.hpp"
#include "magpie/detail/fence.hpp"
#include "pause.hpp"
#include "runtime_core.hpp"

namespace magpie::detail {
namespace {

// Every this many local tasks a worker looks at the injector first, so a worker whose tasks keep
// spawning cannot starve external submissions (Go checks its global queue every 61 ticks).
constexpr std::uint32_t injector_fairness_period = 61;

std::chrono::steady_clock::time_point poll_deadline() noexcept {
  return std::chrono::steady_clock::now() + foreign_wait_poll;
}

}  // namespace

constinit thread_local worker_base* tls_worker = nullptr;

void worker_base::push_side(task* t, unsigned lane) noexcept {
  static_cast<worker*>(this)->note_side_push();
  lanes_[lane].owner.push_reserved(t);
  wake_after_push();
}

void worker_base::wake_after_push_slow() noexcept {
  // Without membarrier a push reads idle_set::push_word's constant and lands here every time:
  // this fence is then its half of a symmetric Dekker pair with the parkers' full fence.
  if (!core->idle.asymmetric()) full_fence();
  core->idle.wake_if_no_searcher();
}

worker::worker(runtime_core& c, std::size_t i)
    : worker_base(c, c.idle.push_word()),
      index(i),
      consumers_(per_lane([&c](unsigned lane) { return c.inj.consumer_token(lane); })),
      rng_(0x9e3779b97f4a7c15ull * (i + 1)),
      fair_countdown_(static_cast<std::uint32_t>(c.starvation_limit() / 2)),
      latency_mode_(i < c.cfg().latency_workers) {
  if (c.cfg().trace) {
    trace_ = std::make_unique<trace_ring>(c.cfg().trace_capacity);
    // Tracing is "unusual" for execute's one test (and sends dispatch to its slow path, which
    // a traced run can afford). relaxed: the workers start after their construction.
    c.attention_.fetch_or(runtime_core::attention_tracing, std::memory_order_relaxed);
  }
}

bool worker::has_local_work() const noexcept {
  for (const lane_deque& l : lanes_)
    if (!l.owner.empty_approx()) return true;
  return false;
}

void worker::run_until_stopped(int bound, std::latch& started) {
  bound_cpu = bound;
  parker_.cpu = bound_cpu;
  parker_.worker_index = index;
  tls_worker = this;
  counters.doing.got_busy();  // not searching yet
  started.count_down();
  // The attention word carries `stopping` (one load of a line dispatch reads anyway); the flag
  // is set only once every worker sleeps, and the wake-up that follows publishes it.
  run_until([this] { return (core->attention() & runtime_core::attention_stopping) != 0; },
            nullptr);
  counters.doing.went_idle();  // woken to stop: busy time is final
  tls_worker = nullptr;
}

void worker::help_until_done(group_state& g) {
  const group_state* outer = current_group_;  // the waiting task's: the tasks run here change it
  run_until([&g] { return g.outstanding() == 0; }, &g);
  current_group_ = outer;
  // A wake-up counted us as searching; we go back to the task that waited, so stop searching.
  stop_searching();
  counters.doing.got_busy();  // back in the waiting task (if we searched or parked meanwhile)
}

bool worker::help_until(group_state& g, time_point deadline) {
  const group_state* outer = current_group_;  // as in help_until_done
  run_until(
      [&g, deadline] {
        return g.outstanding() == 0 || std::chrono::steady_clock::now() >= deadline;
      },
      &g, deadline);
  current_group_ = outer;
  stop_searching();
  counters.doing.got_busy();  // back in the waiting task, also after the search's done() exit
  return g.outstanding() == 0;
}

template <class Done>
void worker::run_until(const Done& done, group_state* waiting_on, time_point deadline) {
  for (;;) {
    if (done()) return;
    task* t = nullptr;
    if (next_own_task(t)) [[likely]] {
      execute_own(t);
    } else if ((t = next_task_slow(done)) != nullptr) {
      execute(t);
    } else if (!done()) {
      park(done, waiting_on, deadline);
      // Counted as searching now (woken or re-check found work): let the next dispatch go to
      // the slow path, which stops searching before it returns a task.
      to_slow_path();
    }
  }
}

// The fast path: one owner-only countdown, one load of the attention word, the pop. Every
// policy (fair turns, urgent and side lanes, inactive workers, the injector's turn, searching)
// lives in the slow path, which the countdown or the word sends the worker to.
// The fast path: one owner-only countdown, one load of the attention word, the pop. Never
// taken while searching (see to_slow_path). False: take next_task_slow.
inline bool worker::next_own_task(task*& t) {
  if (--countdown_ != 0 && core->attention() == 0 && lanes_[normal_lane].owner.pop(t)) {
    MAGPIE_DEBUG_CHECK(!searching_);
    return true;
  }
  return false;
}

// Accounts the fast dispatches since the last visit, picks a task by every policy, and sets the
// countdown to the dispatches until a policy next needs a look (1 while side lanes hold tasks).
// A woken worker counts as searching: it stops before it runs anything, or producers would trust
// a busy "searcher" to pick up their work and wake nobody.
template <class Done>
task* worker::next_task_slow(const Done& done) {
  const std::uint32_t used = budget_ - countdown_;  // >= 1: this dispatch included
  fair_countdown_ -= used;
  tick_ += used;
  task* t = pick(done);
  if (t != nullptr) stop_searching();
  budget_ = side_tasks_ != 0 ? 1 : std::min(fair_countdown_, injector_fairness_period - tick_);
  countdown_ = budget_;
  return t;
}

// Highest lane first: urgent work from outside, then this worker's own deques. Every
// starvation_limit dispatches, fair_turn gives the low lane the first look, and half-way
// between, the normal lane. Every injector_fairness_period dispatches the injector comes first.
template <class Done>
task* worker::pick(const Done& done) {
  constexpr unsigned high = lane_of(priority::high), low = lane_of(priority::low);
  task* t = nullptr;
  if (index >= core->idle.active()) return own_task();  // parked by set_active_workers
  if (fair_countdown_ == 0 && (t = fair_turn()) != nullptr) return t;
  if (fair_countdown_ == 0)
    fair_countdown_ = static_cast<std::uint32_t>(core->starvation_limit() / 2);
  if (core->inj.may_have(high) && (t = from_injector(high)) != nullptr) return t;
  if (side_tasks_ != 0 && (t = pop_side(high)) != nullptr) return t;
  if (tick_ >= injector_fairness_period) {
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
  fair_countdown_ = static_cast<std::uint32_t>(core->starvation_limit() / 2);
  low_turn_ = !low_turn_;
  const unsigned lane = low_turn_ ? lane_of(priority::low) : normal_lane;
  task* t = nullptr;
  if (lane == normal_lane ? lanes_[lane].owner.pop(t) : (t = pop_side(lane)) != nullptr) return t;
  return from_injector(lane);
}

task* worker::pop_side(unsigned lane) {
  task* t = nullptr;
  if (lanes_[lane].owner.pop(t)) {
    MAGPIE_DEBUG_CHECK(side_tasks_ >= 1);
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
  if (lane != normal_lane && !core->inj.may_have(lane)) return nullptr;
  task* batch[injector::batch];
  pool_.reserve(injector::batch);
  const std::size_t n =
      core->inj.pop_bulk(consumers_[lane], lane, into_pool(pool_, batch), injector::batch);
  if (n == 0) return nullptr;
  worker_counters::add(counters.injected, n);
  // Keep the rest in our deque, where idle workers can steal them: we pop them in queue order
  // (batch[1] next), thieves take the newest from the other end.
  for (std::size_t i = n; i-- > 1;) {
    if (lane != normal_lane) ++side_tasks_;
    lanes_[lane].owner.push(batch[i]);  // may grow; the pool blocks are already taken
  }
  if (n > 1) core->idle.wake_after_publish();
  core->made_room(n);
  return batch[0];
}

template <class Done>
task* worker::search(const Done& done) {
  // Woken on our waker's CPU for a task we have now run: spinning here would compete with the
  // waker for its CPU (on a machine with no spare core, a delay in every wake-up), so
  // wake a worker on another CPU to search instead, and park.
  counters.doing.went_idle();  // a run of work ends here (busy time is counted per run)
  pool_.trim();                // back to the cap (release_own_empty may have passed it)
  if (hand_off_) {
    hand_off_ = false;
    if (!searching_ && core->idle.hand_off_search(bound_cpu)) return nullptr;
  }
  if (!start_searching()) return nullptr;  // enough searchers: park
  const auto spin = core->spin();
  auto deadline = std::chrono::steady_clock::now() + spin;
  // Latency mode searches until it finds work, but not once the runtime is closed: shutdown
  // waits for every worker to sleep.
  const auto keep_searching = [this] {
    return latency_mode_ && !core->closed() && index < core->idle.active();
  };
  for (;;) {
    if (core->loops.is_open() && join_loop()) {
      deadline = std::chrono::steady_clock::now() + spin;
      linger_on_board();
      continue;
    }
    task* t = steal_round();
    if (t == nullptr) t = from_injector();
    if (t != nullptr) {
      stop_searching();
      counters.doing.got_busy();
      return t;
    }
    if (done()) {
      stop_searching();
      return nullptr;
    }
    if (!keep_searching() && (spin.count() == 0 || std::chrono::steady_clock::now() >= deadline)) {
      return nullptr;
    }
    pause_between_rounds();
  }
}

task* worker::steal_round() {
  if (core->size() < 2) return nullptr;
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    if (task* t = steal_lane(lane)) return t;
  }
  return nullptr;
}

// Near to far (docs/topology.md): each ring is swept from a random start, and the thief moves
// out only after a whole ring came back empty, so work stays within a core, an L3, a NUMA node
// while there is any there.
task* worker::steal_lane(unsigned lane) {
  const victim_rings& rings = core->rings();
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
      ext::deque_thief<task*>& victim = core->at(ring[i]).thief(lane);
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

// The worker's state changes only through the functions below:
//   running --start_searching--> searching --stop_searching--> running
//   running or searching --begin_parking--> listed --cancel_parking--> searching
//                                                   --sleep--> searching (woken or timed out)

bool worker::start_searching() noexcept {
  if (searching_) return true;
  if (!core->idle.try_begin_search(latency_mode_)) return false;
  searching_ = true;
  return true;
}

void worker::stop_searching() noexcept {
  if (!searching_) return;
  searching_ = false;
  // The last searcher wakes another if work is still visible, so a burst spreads one worker at
  // a time (Tokio, Go), but a lone task does not pay for a futex wake before it starts.
  // The fence pairs with an injector producer's (idle_set::wake_after_publish): either it saw us
  // searching and our re-check below sees its task, or it saw no searcher and woke someone
  // itself. Against a worker's light push it is best effort (docs/design.md): the task then
  // waits for its owner, or for the heavy barrier of the next worker that goes to sleep.
  if (!core->idle.end_search()) return;
  full_fence();
  if (core->has_visible_work()) core->idle.wake_if_no_searcher();
}

bool worker::begin_parking(const group_state* announced) {
  const bool inactive = core->idle.prepare_park(parker_, searching_, announced);
  searching_ = false;
  return inactive;
}

bool worker::cancel_parking() {
  if (!core->idle.cancel_park(parker_)) return false;
  searching_ = true;  // cancel_park counted us as searching
  return true;
}

bool worker::sleep(time_point deadline) {
  MAGPIE_DEBUG_CHECK(!searching_);
  bool woken = true;
  if (deadline == time_point::max()) {
    idle_set::commit_park(parker_);
  } else {
    woken = core->idle.commit_park_until(parker_, deadline);
  }
  // Woken: the waker counted us as searching. Timed out: unlisted and counted as searching, as
  // after cancel_park.
  searching_ = true;
  return woken;
}

template <class Done>
void worker::park(const Done& done, group_state* waiting_on, time_point deadline) {
  counters.doing.went_idle();  // already so after a search; not for an inactive worker
  // An inactive worker does not look for work, so a wake-up meant to make it search goes on.
  if (index >= core->idle.active()) stop_searching();
  // A group waiter announces itself in the group's word (group_state.hpp) and is woken by the
  // last finisher. It can only if the group has no home or is ours: another worker's local
  // count cannot be folded from here, so such a wait polls, sleeping a little at a time.
  group_state* announced =
      waiting_on != nullptr && (waiting_on->home == nullptr || waiting_on->home == this)
          ? waiting_on
          : nullptr;
  if (waiting_on != nullptr && announced == nullptr) deadline = std::min(deadline, poll_deadline());
  const bool inactive = begin_parking(announced);
  if (core->closed() || core->idle_awaited()) core->parked_while_closed();
  // Inactive (decided under the idle set's lock): only its own deques concern it, and becoming
  // active again wakes it explicitly.
  bool wake = inactive ? has_local_work() : core->has_visible_work();
  // An inactive parker may have been the searcher a producer counted on (or the light push it
  // missed became visible with our heavy barrier): hand visible work to an active sleeper.
  // Found by the model check (tests/model, inactive_no_recheck).
  if (inactive && !wake && core->has_visible_work()) core->idle.wake_if_no_searcher();
  if (!wake) {
    // Either the last finisher's decrement sees the waiter bit and wakes us, or we see the
    // group done here.
    wake = announced != nullptr ? announced->announce_waiter() : done();
  }
  if (wake && cancel_parking()) {
    counters.doing.got_busy();
    return;
  }
  worker_counters::bump(counters.parks);
  counters.asleep.store(true, std::memory_order_relaxed);  // relaxed: a statistic
  if (trace_) trace_->instant(trace_kind::park, clock_ticks());
  const bool woken = sleep(deadline);
  counters.asleep.store(false, std::memory_order_relaxed);
  if (woken) worker_counters::bump(counters.wakeups);
  if (trace_) trace_->instant(trace_kind::wake, clock_ticks());
  if (woken) hand_off_ = parker_.woken_beside_waker;
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

// Drops a task unrun: canceled (its group's tree was canceled) or discarded (shutdown(cancel)).
// Cold: kept out of execute's frame.
[[gnu::noinline, gnu::cold]] void worker::skip_or_discard(task* t, group_state* g) noexcept {
  const bool discarding = core->canceling();
  const priority prio = g != nullptr ? g->prio : priority_of(t->lane());
  if (discarding) core->note_discard(g, prio);
  worker_counters::bump(discarding ? counters.discarded : counters.canceled);
  current_group_ = g;  // the callable's destructor is user code, as a task is (see run)
  finish(t, g);        // destroys the callable unrun
}

// One branch for everything unusual: a detached task (timed), tracing, a canceled tree or a
// runtime that discards. The plain case runs the task and finishes it.
inline void worker::execute(task* t) {
  // The origin word holds the group's address, or a detached task's stamp with bit 0 set;
  // tracing is a flag of the attention word.
  const std::uint64_t origin = t->origin;
  auto* g = reinterpret_cast<group_state*>(origin & ~std::uint64_t{7});
  // Bit 0 clear: a group task (task.hpp), so g is not null.
  MAGPIE_DEBUG_CHECK((origin & 1) != 0 || g != nullptr);
  const bool unusual = (origin & 1) != 0 || core->attention() != 0 || g->tree_may_be_canceled();
  if (unusual) [[unlikely]] {
    execute_unusual(t, t->group());
    return;
  }
  run(t, g);
  worker_counters::bump(counters.ran);  // also the stall monitor's marker (activity.hpp)
  pool_.release_empty(t);
  finish_ran(g, (origin & 2) != 0);
}

// execute() for a task that next_own_task just popped: the attention word was zero (so no
// tracing, no discarding), and a home-counted task in this worker's own deque was spawned here,
// by its group's home (build() marks only the home's spawns, and only the owner pushes to or
// pops from its deque), so it is counted back down locally without comparing homes.
inline void worker::execute_own(task* t) {
  const std::uint64_t origin = t->origin;
  auto* g = reinterpret_cast<group_state*>(origin & ~std::uint64_t{7});
  MAGPIE_DEBUG_CHECK((origin & 1) != 0 || g != nullptr);  // as in execute
  if ((origin & 1) != 0 || g->tree_may_be_canceled()) [[unlikely]] {
    execute_unusual(t, t->group());
    return;
  }
  run(t, g);
  worker_counters::bump(counters.ran);  // also the stall monitor's marker (activity.hpp)
  pool_.release_own_empty(t);           // only this worker pushes to its deque, from its own pool
  if ((origin & 2) != 0) {
    MAGPIE_DEBUG_CHECK(g->home == this);
    g->finish_home();
  } else {
    finish_group_task(*g);
  }
}

void worker::execute_unusual(task* t, group_state* g) {
  const std::uint64_t t_origin = t->origin;  // read before the block goes back to the pool
  if (core->canceling() || (g != nullptr && g->cancel_requested())) {
    // A racing cancel may let one more task start, which cancel() allows.
    skip_or_discard(t, g);
    return;
  }
  if (t->timed()) record_latency(*t);  // group tasks are not timed (see stats.hpp), nor resumptions
  if (trace_ != nullptr) {
    // A task is recorded when it ends, with its start: one event, and a task still running (or
    // stuck) is simply not in the trace yet.
    const unsigned lane = g != nullptr ? lane_of(g->prio) : t->lane();
    const std::uint64_t from = clock_ticks();
    run(t, g);
    trace_->task(from, clock_ticks(), lane);
  } else {
    run(t, g);
  }
  worker_counters::bump(counters.ran);
  pool_.release_empty(t);  // run_then_release left `ops` set: not a task to destroy any more
  if (g != nullptr) finish_ran(g, (t_origin & 2) != 0);
}

// Leaves current_group_ at g: it is read only inside tasks, each of which sets it first, so the
// waits that run tasks inside a task restore it once when they return (help_until_done). The
// caller gives t's block back with release_empty (run_then_release).
inline void worker::run(task* t, group_state* g) {
  current_group_ = g;
  worker_counters::bump(counters.begun);
  try {
    t->run_then_release();
  } catch (...) {
    on_exception(g, std::current_exception());
  }
}

// Counts a group task that ran finished (its block is back in the pool already); `local`:
// home-counted.
inline void worker::finish_ran(group_state* g, bool local) noexcept {
  if (local && g->home == this) {
    g->finish_home();
  } else {
    finish_group_task(*g);
  }
}

// Frees the block (destroying a callable not run) and counts the task finished in its group:
// in the home's local count when this worker is the home that counted it, else in the word.
void worker::finish(task* t, group_state* g) noexcept {
  const bool local = t->home_counted();
  pool_.release(t);
  if (g == nullptr) return;
  if (local && g->home == this) {
    g->finish_home();
  } else {
    finish_group_task(*g);
  }
}

void worker::on_exception(group_state* g, std::exception_ptr e) {
  if (g == nullptr) {
    worker_counters::bump(counters.exceptions);
    core->report_detached_exception(std::move(e));
    return;
  }
  // Cancellation is advisory; tasks already running finish. It reaches the groups below `g`.
  g->record_error(std::move(e));
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
  if (g.finish_shared()) idle.wake_group_waiters(key);
}

}  // namespace magpie::detail

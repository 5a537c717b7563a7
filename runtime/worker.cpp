#include "worker.hpp"

#include <chrono>

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
    : core(c), index(i), consumer_(c.inj.raw()), rng_(0x9e3779b97f4a7c15ull * (i + 1)) {}

void worker::main(int cpu, std::latch& started) {
  if (cpu >= 0 && core.bind(static_cast<unsigned>(cpu))) bound_cpu = cpu;
  parker_.cpu = bound_cpu;
  tls_worker = this;
  started.count_down();
  run_until([this] { return core.stopping(); }, nullptr);
  tls_worker = nullptr;
}

void worker::help_until_done(group_state& g) {
  run_until([&g] { return g.pending() == 0; }, &g);
  // A wake-up counted us as searching; we go back to the task that waited, so stop searching.
  if (searching_) leave_search();
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

template <class Done>
task* worker::next_task(const Done& done) {
  task* t = nullptr;
  if (++tick_ == injector_fairness_period) {
    tick_ = 0;
    if ((t = from_injector()) != nullptr) return t;
  }
  if (owner_.pop(t)) return t;
  if ((t = from_injector()) != nullptr) return t;
  return search(done);
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
  task* batch[injector::batch];
  pool_.reserve(injector::batch);
  const std::size_t n = core.inj.pop_bulk(consumer_, into_pool(pool_, batch), injector::batch);
  if (n == 0) return nullptr;
  // Keep the rest in our deque, where idle workers can steal them: we pop them in queue order
  // (batch[1] next), thieves take the newest from the other end.
  for (std::size_t i = n; i-- > 1;)
    owner_.push(batch[i]);
  if (n > 1) core.idle.notify_one();
  core.made_room(n);
  return batch[0];
}

template <class Done>
task* worker::search(const Done& done) {
  // Woken on our waker's CPU for a task we have now run: spinning here would compete with the
  // waker (on a machine with no spare core this co-location put ~3 us into every wake-up), so
  // wake a worker on another CPU to search instead, and park.
  if (hand_off_) {
    hand_off_ = false;
    if (!searching_ && core.idle.hand_off_search(bound_cpu)) return nullptr;
  }
  if (!searching_) {
    if (!core.idle.try_begin_search()) return nullptr;  // enough searchers: park
    searching_ = true;
  }
  const auto spin = core.spin();
  const auto deadline = std::chrono::steady_clock::now() + spin;
  for (;;) {
    task* t = steal_round();
    if (t == nullptr) t = from_injector();
    if (t != nullptr) {
      leave_search();
      return t;
    }
    if (done()) {
      leave_search();
      return nullptr;
    }
    if (spin.count() == 0 || std::chrono::steady_clock::now() >= deadline) return nullptr;
    for (int i = 0; i < 16; ++i)
      cpu_relax();
  }
}

task* worker::steal_round() {
  const std::size_t n = core.size();
  if (n < 2) return nullptr;
  const std::size_t start = static_cast<std::size_t>(next_random() % n);
  for (bool retry = true; retry;) {
    retry = false;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t v = (start + k) % n;
      if (v == index) continue;
      const auto r = core.at(v).thief().steal();
      if (r.status == ext::steal_status::success) {
        worker_counters::bump(counters.stolen);
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
    return;
  }
  worker_counters::bump(counters.parks);
  if (deadline == time_point::max()) {
    idle_set::commit_park(parker_);
  } else if (!core.idle.commit_park_until(parker_, deadline)) {
    searching_ = true;  // timed out: unlisted and counted as searching, as after cancel_park
    return;
  }
  searching_ = true;  // the waker counted us as searching
  hand_off_ = parker_.woken_beside_waker;
}

void worker::execute(task* t) {
  group_state* g = t->group;
  if (core.canceling() || (g != nullptr && g->cancel_requested())) {
    // A racing cancel may let one more task start, which cancel() allows.
    const bool discarding = core.canceling();
    free_task(t);  // destroys the callable unrun
    worker_counters::bump(discarding ? counters.discarded : counters.canceled);
    if (g != nullptr) {
      if (discarding) g->canceled.store(true, std::memory_order_relaxed);
      finish_group_task(*g);
    }
    return;
  }
  group_state* outer = current_group_;
  current_group_ = g;
  try {
    t->run();
  } catch (...) {
    on_exception(g, std::current_exception());
  }
  current_group_ = outer;
  worker_counters::bump(counters.ran);
  free_task(t);
  if (g != nullptr) finish_group_task(*g);
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

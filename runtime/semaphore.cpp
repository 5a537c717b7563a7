#include "magpie/semaphore.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>
#include <string>

#include "runtime_core.hpp"
#include "worker.hpp"

namespace magpie::detail {

semaphore_state::semaphore_state(runtime_core& c, std::size_t capacity)
    : held_source(kind::semaphore), core(c) {
  if (capacity == 0 || capacity > max_capacity) {
    throw std::invalid_argument(
        "magpie::semaphore: the capacity must be between 1 and 2^31 - 1, got " +
        std::to_string(capacity));
  }
  // relaxed: nothing else sees the state yet.
  word_.store(std::uint64_t{capacity} << 32, std::memory_order_relaxed);
  core.holders.add(*this);
}

// Nothing holds units and nothing waits: every ticket was destroyed, so no task of ours will
// touch the state again (a releaser that saw the waiters bit clears it under mu_, which we take
// once after seeing it clear).
bool semaphore_state::quiet() const noexcept {
  // acquire: pairs with the last release, so its effects happen before our destruction.
  const std::uint64_t u = word_.load(std::memory_order_acquire);
  return used(u) == 0 && (u & waiters_bit) == 0;
}

semaphore_state::~semaphore_state() {
  if (!quiet()) {
    // Wait on a group that never finishes, a slice at a time: on a worker that runs other tasks
    // (ours among them) meanwhile, elsewhere it sleeps.
    group_state slice(core, priority::normal, nullptr);
    slice.add_shared();
    while (!quiet()) {
      wait_group_until(slice, std::chrono::steady_clock::now() + std::chrono::microseconds(200),
                       "magpie::semaphore::~semaphore");
    }
  }
  { std::lock_guard lock(mu_); }  // a releaser may still be unlocking mu_
  core.holders.remove(*this);
}

std::uint32_t semaphore_state::checked_weight(std::size_t weight, const char* who) const {
  const std::size_t c = capacity();
  if (weight == 0 || weight > c) {
    throw std::invalid_argument(std::string(who) +
                                ": the weight must be between 1 and the capacity (" +
                                std::to_string(c) + "), got " + std::to_string(weight));
  }
  return static_cast<std::uint32_t>(weight);
}

// Takes w units if they fit. Caller holds mu_ (so no other waiter is being granted).
bool semaphore_state::granted_locked(std::uint32_t w) noexcept {
  std::uint64_t u = word_.load(std::memory_order_relaxed);  // relaxed: the CAS re-reads
  while (used(u) + w <= cap(u)) {
    // acq_rel: as try_take.
    if (word_.compare_exchange_weak(u, u + w, std::memory_order_acq_rel, std::memory_order_relaxed))
      return true;
  }
  return false;
}

bool semaphore_state::take_or_queue(task& t, std::uint32_t w, priority prio, ticket_fn ticket,
                                    group_state* g, const char* who, bool slot_held) {
  bool head_may_fit = false;
  {
    std::lock_guard lock(mu_);
    if (w > capacity()) {
      throw std::invalid_argument(std::string(who) + ": the weight " + std::to_string(w) +
                                  " exceeds the capacity, lowered to " +
                                  std::to_string(capacity()));
    }
    if (queue_.empty() && granted_locked(w)) return false;
    const bool first = queue_.empty();
    queue_.push_back(waiter{std::move(t), w, prio, ticket});  // throws: nothing queued
    if (g != nullptr) g->add_shared();  // before any releaser can pop it (it needs mu_)
    waiting_.store(queue_.size(), std::memory_order_relaxed);  // relaxed: a statistic
    if (first) {
      // acq_rel: every release after this RMW sees the bit and pumps. One that came between our
      // granted_locked and here did not: if the head fits now, pump below.
      const std::uint64_t u = word_.fetch_or(waiters_bit, std::memory_order_acq_rel);
      head_may_fit = used(u) + w <= cap(u);
      // Counted as launching before we unlock: the bit then stays set until our pump ends, so
      // the destructor waits for it (a coroutine queued here may be resumed, and free the
      // semaphore, before this thread's pump starts).
      if (head_may_fit) ++launching_;
    }
  }
  if (head_may_fit) pump(0, true, slot_held);
  return true;
}

// Grants units to waiting tasks, oldest first, stopping at the first that does not fit. On a
// worker each granted task goes straight onto its deque under the lock (a push that cannot
// fail once its block is reserved), so a release that starts waiters takes the mutex once.
// Off the workers, or if a block cannot be had, granted tasks are launched outside the lock,
// up to pump_batch per hold. The waiters bit is cleared only when the queue is empty and no
// pump is still launching what it granted: the destructor waits for a clear bit, so no pump
// uses the semaphore once it is freed. (Meanwhile a fast-path acquirer sees the bit and takes
// the slow path, which grants at once when the queue is empty.)
// `returning`: units a ticket gives back, returned under the first hold of the mutex.
// `counted`: the caller already counted this pump in launching_.
// `slot_held`: off the workers, the caller holds a runtime slot (see launch).
void semaphore_state::pump(std::uint32_t returning, bool counted, bool slot_held) noexcept {
  worker* const self = worker_of(core);
  std::array<waiter, pump_batch> granted;
  bool launching = counted;  // this pump is counted in launching_
  for (;;) {
    std::size_t n = 0;
    {
      std::lock_guard lock(mu_);
      if (launching) --launching_;
      if (returning != 0) {
        word_.fetch_sub(returning, std::memory_order_acq_rel);  // acq_rel: as release()
        returning = 0;
      }
      while (n < pump_batch && !queue_.empty() && granted_locked(queue_.front().weight)) {
        waiter next = queue_.pop_front();
        next.ticket(next.item).arm(this, next.weight);
        if (self == nullptr || !launch_local(*self, next)) granted[n++] = std::move(next);
      }
      waiting_.store(queue_.size(), std::memory_order_relaxed);  // relaxed: a statistic
      if (n == 0) {
        // acq_rel: as take_or_queue's fetch_or; every release before this saw the bit and pumps.
        if (queue_.empty() && launching_ == 0)
          word_.fetch_and(~waiters_bit, std::memory_order_acq_rel);
        return;
      }
      ++launching_;
      launching = true;
    }
    for (std::size_t i = 0; i < n; ++i)
      launch(granted[i], slot_held);
  }
}

// Pushes a granted task onto this worker's deque, also during shutdown (it was accepted
// before: a drain runs it, a cancel discards it there, later, outside our lock). False if no
// task block could be allocated: the caller launches it outside the lock instead.
bool semaphore_state::launch_local(worker& self, waiter& next) noexcept {
  task* block = nullptr;
  try {
    block = self.reserve_task();
  } catch (...) {
    return false;
  }
  reservation r{slot::local, {}};
  r.block = block;
  submit_built(core, r, next.item, next.prio);  // noexcept for a local slot
  return true;
}

// Queues a waiting task that got its units. On a worker it goes to that worker's deque, also
// during shutdown (it was accepted before: a drain runs it, a cancel discards it there). Off the
// workers, a caller that holds a runtime slot (a submit or set_capacity) keeps shutdown's drain
// waiting, so its grants go to the injector even once the runtime is closed; one that does not
// (shutdown's own thread discarding a task of ours) discards them here once the runtime is
// closed: their units come back without another pump, so a long queue is emptied by this loop,
// not by recursion.
void semaphore_state::launch(waiter& next, bool slot_held) noexcept {
  reservation r{};
  try {
    r = slot_held && worker_of(core) == nullptr ? core.reserve_while_held()
                                                : reserve_slot(core, true, false);
  } catch (...) {  // out of memory for a worker's task block or a thread's producer
    r.kind = slot::closed;
  }
  if (r.kind == slot::local || r.kind == slot::injector) {
    try {
      submit_built(core, r, next.item, next.prio);
    } catch (...) {
      // The injector could not allocate: the task was destroyed unrun (its ticket gave the units
      // back). Dropped, as docs/errors.md says.
    }
    return;
  }
  next.ticket(next.item).disarm();
  word_.fetch_sub(next.weight, std::memory_order_acq_rel);  // acq_rel: as release()
  core.discard_held(next.item, next.prio);
}

void semaphore_state::set_capacity(std::size_t n) {
  constexpr const char* who = "magpie::semaphore::set_capacity";
  if (n == 0 || n > max_capacity) {
    throw std::invalid_argument(std::string(who) +
                                ": the capacity must be between 1 and 2^31 - 1, got " +
                                std::to_string(n));
  }
  {
    std::lock_guard lock(mu_);
    std::uint32_t heaviest = 0;
    queue_.for_each([&heaviest](const waiter& x) { heaviest = std::max(heaviest, x.weight); });
    if (n < heaviest) {
      throw std::invalid_argument(std::string(who) + ": " + std::to_string(n) +
                                  " is below the weight of a waiting task (" +
                                  std::to_string(heaviest) + ")");
    }
    std::uint64_t u = word_.load(std::memory_order_relaxed);  // relaxed: the CAS re-reads
    while (!word_.compare_exchange_weak(u, (u & ~(max_capacity << 32)) | (std::uint64_t{n} << 32),
                                        std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
  }
  if (worker_of(core) != nullptr) return pump(0);
  // Off the workers, a slot held across the pump keeps shutdown's drain waiting for what it
  // launches. Refused (closed, or no room), the waiting tasks are left to the running ones:
  // someone holds units while anyone waits, and its release pumps.
  const reservation r = reserve_slot(core, false);
  if (r.kind != slot::injector) return;
  const slot_guard guard(core, r);
  pump(0, false, true);
}

void submit_built(runtime_core& core, reservation r, task& t, priority prio) {
  const priority p = t.group() != nullptr ? t.group()->prio : prio;
  if (r.kind == slot::local) {
    *r.block = std::move(t);
    core.submit_local(r.block, p);
  } else {
    core.submit_injected(t, r, p);
  }
}

}  // namespace magpie::detail

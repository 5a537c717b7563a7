// Submitting: a reservation (the caller's deque, or room in the injector under max_pending),
// then the hand-over. The exported detail/submit.hpp calls that the public templates inline
// lead here.
#include "magpie/detail/submit.hpp"

#include "runtime_core.hpp"

namespace magpie::detail {

reservation reserve_slot(runtime_core& core, bool wait_for_room, bool detached) {
  return core.reserve(wait_for_room ? std::chrono::steady_clock::time_point::max()
                                    : std::chrono::steady_clock::time_point::min(),
                      detached);
}

reservation reserve_slot_until(runtime_core& core, std::chrono::steady_clock::time_point deadline) {
  return core.reserve(deadline);
}

void release_slot(runtime_core& core, reservation r) noexcept {
  core.release(r);
}

void submit_local(runtime_core& core, task* t, priority p) noexcept {
  core.submit_local(t, p);
}

void submit_injected(runtime_core& core, task& t, reservation r, priority p) {
  core.submit_injected(t, r, p);
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

// Shutdown's drain cannot end while this thread's first slot is held: its in_flight stays above
// zero from before the close until after this second slot is counted, so the task we queue
// with it is drained (or discarded and reported by a cancel), never left behind.
reservation runtime_core::reserve_while_held() {
  producer& p = inj.this_thread_producer();  // found: this thread holds a slot from it
  if (cfg_.max_pending != 0) inj.force_take_capacity();
  // relaxed: no Dekker with `closed` is needed (see above); the held slot's seq_cst decrement
  // comes later in this thread, so no reader sees the count drop to zero in between.
  p.in_flight.fetch_add(1, std::memory_order_relaxed);
  return {slot::injector, {&p}};
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
  // A local slot was reserved on this worker, from its own pool; the block was never built.
  if (r.kind == slot::local) this_worker()->free_task(r.block);
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

void runtime_core::submit_local(task* t, priority p) noexcept {
  if (t->group() == nullptr) t->stamp(lane_of(p), clock_ticks());
  this_worker()->push_local(t, lane_of(p));  // wakes a sleeper if needed
}

void runtime_core::submit_injected(task& t, reservation r, priority p) {
  if (t.group() == nullptr) t.stamp(lane_of(p), clock_ticks());
  if (!inj.push(*r.from, std::move(t), lane_of(p))) {
    group_state* g = t.group();
    t.reset();
    release(r);
    if (g != nullptr) finish_group_task(*g);
    throw std::bad_alloc();
  }
  idle.wake_after_publish();
  end_submit(*r.from);
}

void runtime_core::made_room(std::size_t n) noexcept {
  if (cfg_.max_pending == 0) return;
  inj.give_capacity(n);
  // seq_cst: Dekker with take_capacity (see there).
  if (room_waiters_.load(std::memory_order_seq_cst) != 0) room_.signal_all();
}

}  // namespace magpie::detail

// Discards. The one meaning of "discard" in the runtime: shutdown(cancel), or shutdown_for past
// its deadline, drops a task it had accepted, unrun. Every discard goes through note_discard
// (counted once for config.on_discard, its group marked canceled) and is counted once for the
// shutdown report's `discarded`, by whichever of three places drops it:
//  * a worker that dispatches it while the runtime cancels (worker::skip_or_discard; counted in
//    worker_counters::discarded);
//  * the shutdown thread sweeping the queues (discard_queued -> discard_swept; discarded_swept_);
//  * any thread dropping a task held outside the queues, a semaphore's waiter or a strand's
//    queued task (discard_held; discarded_held_).
// stats' discarded_by_shutdown is discarded_swept_ + discarded_held_. Not discards: a task
// skipped because its group was canceled (counted as canceled), a task refused at submit (never
// accepted), and task::reset, which only destroys a callable and serves all of these.
#include <cstdio>

#include "runtime_core.hpp"

namespace magpie::detail {

void runtime_core::discard_queued() noexcept {
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    task t;
    while (inj.try_pop(lane, t)) {
      made_room(1);
      discard_swept(t, priority_of(lane));
    }
    for (const auto& w : workers_) {
      for (;;) {
        const auto r = w->thief(lane).steal();
        if (r.status == ext::steal_status::empty) break;
        if (r.status != ext::steal_status::success) continue;
        discard_swept(*r.value, priority_of(lane));
        task_pool::release_unpooled(r.value);  // blocks are plain operator new allocations
      }
    }
  }
}

// Destroys t's callable unrun and accounts for it as discarded (the caller frees t's block).
void runtime_core::discard_swept(task& t, priority prio) noexcept {
  group_state* g = t.group();
  t.reset();
  // One writer, under shutdown_mu_; tally() reads under that mutex, stats() any time.
  single_writer_add(discarded_swept_);
  note_discard(g, prio);
  // Never the home's own count: this thread is not a worker.
  if (g != nullptr) finish_group_task(*g);
}

void runtime_core::note_discard(group_state* g, priority prio) noexcept {
  if (cfg_.on_discard) {
    // relaxed: exchanged by the shutdown thread, which needs the count, not an ordering.
    undelivered_discards_[lane_of(prio)].fetch_add(1, std::memory_order_relaxed);
  }
  if (g != nullptr) g->request_cancel(group_state::by_user);  // advisory: running tasks finish
}

void runtime_core::discard_held(task& t, priority prio) noexcept {
  group_state* g = t.group();
  t.reset();
  // relaxed: a count read by tally() after the workers were joined (or approximately).
  discarded_held_.fetch_add(1, std::memory_order_relaxed);
  note_discard(g, prio);
  if (g != nullptr) finish_group_task(*g);
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
        cfg_.on_discard(priority_of(lane));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "magpie: config.on_discard threw: %s; ignored\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "magpie: config.on_discard threw a non-standard exception; ignored\n");
      }
    }
  }
}

}  // namespace magpie::detail

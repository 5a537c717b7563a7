// Tasks dropped unrun by shutdown: counted in the report, handed to config.on_discard later.
#include <cstdio>

#include "runtime_core.hpp"

namespace magpie::detail {

void runtime_core::discard_queued() noexcept {
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    task t;
    while (inj.try_pop(lane, t)) {
      made_room(1);
      discard(t, priority_of(lane));
    }
    for (const auto& w : workers_) {
      for (;;) {
        const auto r = w->thief(lane).steal();
        if (r.status == ext::steal_status::empty) break;
        if (r.status != ext::steal_status::success) continue;
        discard(*r.value, priority_of(lane));
        task_pool::release_unpooled(r.value);  // blocks are plain operator new allocations
      }
    }
  }
}

// Destroys t's callable unrun and accounts for it as discarded (the caller frees t's block).
void runtime_core::discard(task& t, priority prio) noexcept {
  group_state* g = t.group();
  t.discard();
  // One writer, under shutdown_mu_; tally() reads under that mutex, stats() any time.
  single_writer_add(discarded_by_shutdown_);
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
  t.discard();
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

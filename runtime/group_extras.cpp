// What a task_group makes only when asked (magpie/detail/group_extras.hpp): its limiter, and
// for task_group::stop_token and this_task::stop_token a std::stop_source per group that asked,
// stopped by the group's cancellation or an ancestor's (group_stop.hpp).
#include "magpie/detail/group_extras.hpp"

#include <memory>
#include <new>
#include <utility>

#include "group_limiter.hpp"  // ~group_extras destroys the limiter
#include "group_stop.hpp"
#include "runtime_core.hpp"

namespace magpie::detail {

group_extras::group_extras() noexcept = default;
group_extras::~group_extras() = default;

group_extras& extras_of(const group_state& g) {
  // acquire: the winner's construction of the extras.
  group_extras* e = g.extras.load(std::memory_order_acquire);
  if (e != nullptr) return *e;
  auto fresh = std::make_unique<group_extras>();
  // acq_rel: release publishes ours; acquire (on failure too) sees the winner's.
  if (g.extras.compare_exchange_strong(e, fresh.get(), std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
    return *fresh.release();  // owned by the group's state from now on
  }
  return *e;
}

void destroy_extras(group_state& g) noexcept {
  // acquire: the extras' construction (by one of the group's tasks, perhaps).
  std::unique_ptr<group_extras> e(g.extras.exchange(nullptr, std::memory_order_acquire));
  if (e == nullptr || e->stop == nullptr) return;
  stop_registry& r = g.core->stops;
  const std::lock_guard<std::mutex> lock(r.mu);
  r.unlink(*e->stop);
}

std::stop_token group_stop_token(const group_state& g) {
  group_extras& e = extras_of(g);
  stop_registry& r = g.core->stops;
  std::stop_source source = std::stop_source(std::nostopstate);
  {
    const std::lock_guard<std::mutex> lock(r.mu);
    if (e.stop == nullptr) {
      e.stop = std::make_unique<group_stop>(g);
      r.link(*e.stop);
    }
    source = e.stop->source;
  }
  // acq_rel: one RMW order with request_cancel's setting of tree_canceled (see there). Listed
  // first, so that a cancel that sees this bit finds the source; checked after, so that a
  // cancel that did not see it is seen here.
  g.root->tree_flags.fetch_or(group_state::tree_watched, std::memory_order_acq_rel);
  if (g.cancel_requested()) source.request_stop();  // outside the lock: runs stop callbacks
  return source.get_token();
}

namespace {

// A listed source in the tree of `root` whose group is canceled and that is not stopped yet.
std::stop_source next_to_stop(stop_registry& r, const group_state* root) {
  const std::lock_guard<std::mutex> lock(r.mu);
  for (group_stop* s = r.head(); s != nullptr; s = s->next) {
    if (s->group->root == root && !s->source.stop_requested() && s->group->cancel_requested())
      return s->source;
  }
  return std::stop_source(std::nostopstate);
}

}  // namespace

void request_group_stops(const group_state& g) noexcept {
  // One source at a time, requested outside the lock: a stop callback may itself cancel a group
  // or ask for a token. Each round stops one more source, so this ends.
  stop_registry& r = g.core->stops;
  for (;;) {
    std::stop_source s = next_to_stop(r, g.root);
    if (!s.stop_possible()) return;
    s.request_stop();
  }
}

void renew_group_stop(const group_state& g) noexcept {
  // acquire: the extras' construction.
  group_extras* e = g.extras.load(std::memory_order_acquire);
  if (e == nullptr) return;
  stop_registry& r = g.core->stops;
  const std::lock_guard<std::mutex> lock(r.mu);
  if (e->stop == nullptr || !e->stop->source.stop_requested() || g.cancel_requested()) return;
  try {
    e->stop->source = std::stop_source();
  } catch (const std::bad_alloc&) {
    // Out of memory: the group keeps its stopped source; new tokens then report a stop.
  }
}

}  // namespace magpie::detail

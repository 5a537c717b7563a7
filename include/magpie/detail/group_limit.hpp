// The concurrency limit of a task_group (task_group::set_limit) as task_group.hpp sees it: an
// opaque handle. The limiter itself, with its queue and mutex, is runtime/group_limiter.hpp, so
// that <deque> and <mutex> reach no user through task_group.hpp (tests/header_hygiene.cpp).
// An unlimited group pays what it did with the class inline: a null check in ~task_group.
#pragma once

#include <memory>

#include "magpie/detail/task.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

class group_limiter;

struct group_limiter_deleter {
  MAGPIE_API void operator()(group_limiter* l) const noexcept;
};
/// A task_group's limiter; null while the group has no limit.
using group_limiter_ptr = std::unique_ptr<group_limiter, group_limiter_deleter>;

/// Runs `item` (built with no group) as a task of the limiter's group now if a slot is free, else
/// queues it. Throws runtime_closed after shutdown, std::bad_alloc; either way nothing was
/// accepted. May block while the runtime's injector is full, like task_group::spawn.
MAGPIE_API void spawn_limited(group_limiter& l, task&& item);

}  // namespace magpie::detail

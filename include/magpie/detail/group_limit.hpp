// The concurrency limit of a task_group (task_group::set_limit) as the public headers see it: an
// opaque type. The limiter itself, with its queue and mutex, is runtime/group_limiter.hpp, so
// that <deque> and <mutex> reach no user through task_group.hpp (tests/header_hygiene.cpp). It
// is owned by group_extras, whose destructor is out of line, and reached only when set.
#pragma once

#include "magpie/detail/task.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

class group_limiter;

/// Runs `item` (built with no group) as a task of the limiter's group now if a slot is free, else
/// queues it. Throws runtime_closed after shutdown, std::bad_alloc; either way nothing was
/// accepted. May block while the runtime's injector is full, like task_group::spawn.
MAGPIE_API void spawn_limited(group_limiter& l, task&& item);

}  // namespace magpie::detail

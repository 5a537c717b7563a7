// parallel_invoke: run a few callables in parallel and return when all have finished.
#pragma once

#include "magpie/detail/on_runtime.hpp"
#include "magpie/runtime.hpp"
#include "magpie/task_group.hpp"

namespace magpie {

/// Runs every f as a task and returns when all have finished (on a worker the caller helps);
/// the first exception is rethrown.
template <class... F>
void parallel_invoke(runtime& rt, F&&... fs) {
  static_assert(sizeof...(F) >= 1, "parallel_invoke needs at least one function");
  detail::on_runtime(rt, "magpie::parallel_invoke", [&] {
    task_group g(rt);
    (g.spawn(fs), ...);
    g.wait();
  });
}

}  // namespace magpie

// parallel_invoke: run a few callables in parallel and return when all have finished. The calls
// take the 1-D loops' paths, one callable per piece: the loop board when a worker searches,
// the caller's shared pieces with loop_options::caller_joins, else tasks.
#pragma once

#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <type_traits>

#include "magpie/detail/broadcast_loop.hpp"
#include "magpie/detail/loop_broadcast.hpp"
#include "magpie/detail/on_runtime.hpp"
#include "magpie/detail/shared_pieces.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/errors.hpp"
#include "magpie/partitioner.hpp"
#include "magpie/runtime.hpp"
#include "magpie/task_group.hpp"

namespace magpie {

namespace detail {

/// Calls the callables numbered [first, last) of fs.
template <class... F>
void invoke_range(std::size_t first, std::size_t last, F&... fs) {
  std::size_t k = 0;
  ((k >= first && k < last ? static_cast<void>(fs()) : static_cast<void>(0), ++k), ...);
}

/// The calls through the loop board when a worker searches: one piece per callable, their
/// costs being unknown (participants = n leaves the cut no rounds, only grain-1 pieces).
template <class... F>
bool broadcast_invoke(runtime& rt, F&... fs) {
  if (!broadcast_possible(runtime_access::core(rt))) return false;
  broadcast_job job;
  job.n = job.participants = job.pieces = sizeof...(F);
  job.grain = 1;
  return try_broadcast(rt, job, std::size_t{0}, [&](std::size_t, std::size_t b, std::size_t e) {
    invoke_range(b, e, fs...);
  });
}

/// On a worker: every call but the last as a task, the last here, then the join. The tasks
/// hold references: the group's wait (or destructor, on an exception) outlives them.
template <class... F>
void invoke_tasks(runtime& rt, F&... fs) {
  task_group g(rt);
  std::size_t k = 0;
  ((++k < sizeof...(F) ? g.spawn([&fs] { static_cast<void>(fs()); })
                       : g.run_and_wait([&fs] { static_cast<void>(fs()); })),
   ...);
}

}  // namespace detail

/// Calls every f once, in parallel, and returns when all have finished; the first exception is
/// rethrown (calls not started by then are skipped). A single f runs inline. On a worker the
/// caller runs calls too; from outside it waits unless `opts.caller_joins` is set, when it takes
/// calls beside the workers as a 1-D loop's caller takes pieces. `opts.grain` must be 0 (each
/// call is one piece); `opts.part` changes nothing.
template <class... F>
void parallel_invoke(runtime& rt, loop_options opts, F&&... fs) {
  static_assert(sizeof...(F) >= 1, "parallel_invoke needs at least one function");
  static_assert((std::is_invocable_v<F&> && ...),
                "magpie::parallel_invoke: every function is called with no argument");
  if (opts.grain != 0) {
    MAGPIE_THROW(std::invalid_argument(
        "magpie::parallel_invoke: loop_options::grain must be 0 (each function is one piece)"));
  }
  (detail::require_callable(fs, "magpie::parallel_invoke"), ...);
  if constexpr (sizeof...(F) == 1) {
    (static_cast<void>(fs()), ...);
  } else {
    if (opts.caller_joins && !detail::on_worker_of(detail::runtime_access::core(rt))) {
      if (detail::broadcast_invoke(rt, fs...)) return;
      detail::share_pieces(
          rt, std::size_t{0}, sizeof...(F), 1,
          [&](std::size_t, std::size_t b, std::size_t e) { detail::invoke_range(b, e, fs...); });
      return;
    }
    detail::on_runtime(rt, "magpie::parallel_invoke", [&] {
      if (!detail::broadcast_invoke(rt, fs...)) detail::invoke_tasks(rt, fs...);
    });
  }
}

template <class F0, class... F>
requires(!std::same_as<std::remove_cvref_t<F0>, loop_options>) void parallel_invoke(runtime& rt,
                                                                                    F0&& f0,
                                                                                    F&&... fs) {
  parallel_invoke(rt, loop_options{}, std::forward<F0>(f0), std::forward<F>(fs)...);
}

}  // namespace magpie

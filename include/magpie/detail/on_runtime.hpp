// Where a parallel call runs: on the calling worker, or handed to the runtime from outside.
#pragma once

#include <string>
#include <utility>

#include "magpie/errors.hpp"
#include "magpie/export.hpp"
#include "magpie/runtime.hpp"
#include "magpie/task_group.hpp"

namespace magpie::detail {

/// True when the calling thread is one of `rt`'s workers.
MAGPIE_API bool on_worker_of(runtime_core& rt) noexcept;

// Runs `work()` on a worker of `rt`: directly when already on one, else as a task the calling
// thread waits for (parking; it never becomes a worker). After shutdown it throws
// runtime_closed naming `where`, the call the user made.
template <class Work>
void on_runtime(runtime& rt, const char* where, Work&& work) {
  if (on_worker_of(detail::runtime_access::core(rt))) {
    work();
    return;
  }
  // Closed is final, so this names the call up front; without exceptions the catch below
  // cannot rename spawn's error.
  if (rt.closed()) MAGPIE_THROW(runtime_closed(std::string(where) + ": runtime is shut down"));
  task_group g(rt);
  MAGPIE_TRY {
    g.spawn(std::forward<Work>(work));
  }
  MAGPIE_CATCH(const runtime_closed&) {
    MAGPIE_THROW(runtime_closed(std::string(where) + ": runtime is shut down"));
  }
  g.wait();
}

}  // namespace magpie::detail

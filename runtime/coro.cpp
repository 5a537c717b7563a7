// The library side of magpie/coro.hpp: what a detached coroutine's exception becomes.
#include <exception>
#include <utility>

#include "magpie/detail/coro_resume.hpp"
#include "magpie/future.hpp"
#include "runtime_core.hpp"
#include "worker.hpp"

namespace magpie::detail {

namespace {

void report_as_detached(runtime_core& core, std::exception_ptr e) noexcept {
  if (worker* w = worker_of(core)) {
    worker_counters::bump(w->counters.exceptions);  // this worker is the counters' only writer
    core.report_detached_exception(std::move(e));
    return;
  }
  // Finished on another runtime's worker (after co_await schedule): hand the exception to a
  // task of `core`, whose worker counts and reports it as its own.
  try {
    const reservation r = reserve_slot(core, false);
    if (r.kind != slot::closed && r.kind != slot::full) {
      submit_callable(
          core, r, [e] { std::rethrow_exception(e); }, nullptr, priority::normal);
      return;
    }
  } catch (...) {  // out of memory: report it here instead
  }
  core.report_detached_exception(std::move(e));
}

}  // namespace

void report_coroutine_exception(runtime_core& core, std::exception_ptr e) noexcept {
  // A shutdown(cancel) that cut the coroutine short is not its failure: it counts as discarded.
  try {
    std::rethrow_exception(e);
  } catch (const runtime_closed&) {
    return;
  } catch (...) {
  }
  report_as_detached(core, std::move(e));
}

void report_callback_exception(runtime_core& core, std::exception_ptr e) noexcept {
  report_as_detached(core, std::move(e));
}

}  // namespace magpie::detail

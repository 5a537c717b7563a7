// co_await s.schedule(): the coroutine's resumption becomes one of the strand's tasks, so the
// code after the co_await runs in the strand's order, one at a time with its other tasks.
#pragma once

#include <coroutine>
#include <memory>
#include <new>
#include <string>

#include "magpie/detail/coro_resume.hpp"
#include "magpie/detail/strand_state.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/errors.hpp"

namespace magpie::detail {

class strand_schedule_awaiter : resumable {
 public:
  explicit strand_schedule_awaiter(strand_state& s) noexcept : s_(&s) {}
  bool await_ready() const noexcept { return false; }
  /// Throws runtime_closed once the runtime refuses work, std::bad_alloc, with nothing queued.
  void await_suspend(std::coroutine_handle<> h) {
    handle = h;
    // Not detached: the coroutine is accepted work, so a drain still takes its resumption.
    const reservation r = reserve_slot(s_->core, true, false);
    if (r.kind == slot::closed)
      MAGPIE_THROW(runtime_closed(std::string(who) + ": runtime is shut down"));
    slot_guard guard(s_->core, r);
    // Our resumption may run, and the coroutine free the strand, before push returns (another
    // producer's count can release our node first): keep the state alive until then.
    const std::shared_ptr<strand_state> keep = s_->shared_from_this();
    std::unique_ptr<strand_node> node(s_->make_node());
    build_task(node->item, resume_job(*this), nullptr);
    guard.disarm();
    // From here another thread may resume (and free) the coroutine: touch nothing after push.
    MAGPIE_TRY {
      s_->push(node.release(), r);
    }
    MAGPIE_CATCH(const std::bad_alloc&) {
      // The strand's runner could not be queued and was destroyed, discarding the queue: our
      // resumption among it, so the coroutine has already seen runtime_closed.
    }
  }
  void await_resume() const { check_resumed(who); }

 private:
  static constexpr const char* who = "magpie::strand::schedule";
  strand_state* s_;
};

}  // namespace magpie::detail

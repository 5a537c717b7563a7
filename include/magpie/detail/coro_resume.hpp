// How a suspended coroutine is handed to a runtime: a resumption is an ordinary task (pushed on
// the current worker's deque, or submitted) whose run resumes the coroutine. Shared by every
// awaiter in magpie/coro.hpp, and meant for other awaitables (a semaphore, a strand) to reuse:
// derive the awaiter from `resumable`, queue it with resume_on, and call check_resumed() in
// await_resume.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "magpie/config.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/detail/worker_base.hpp"
#include "magpie/errors.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

/// How many siblings a when_all child may take back and run by symmetric transfer in one chain
/// (join_counter::on_final) before leaving the next one to the worker loop. Where the compiler
/// makes the transfer a tail call this only costs the occasional trip through the loop; where it
/// cannot (sanitizers hook every function's exit), each transfer nests a call, and the bound is
/// what keeps a long chain from overflowing the stack.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr std::uint32_t max_take_back_chain = 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr std::uint32_t max_take_back_chain = 4;
#else
inline constexpr std::uint32_t max_take_back_chain = 64;
#endif
#else
inline constexpr std::uint32_t max_take_back_chain = 64;
#endif
/// Take-backs since this thread last started a resumption task (per thread, like tls_worker).
inline constinit thread_local std::uint32_t take_back_chain = 0;

/// A suspended coroutine waiting to be resumed by a task. Lives in the coroutine's frame (a
/// promise or an awaiter), so it stays put while the coroutine is suspended.
struct resumable {
  std::coroutine_handle<> handle;
  // Set when the task that would resume it was discarded (shutdown(cancel)): the coroutine is
  // then resumed on the discarding thread and its await_resume throws runtime_closed, so that
  // it unwinds (and frees its frame) instead of staying suspended forever.
  bool discarded = false;

  /// For await_resume: throws runtime_closed if the resumption was discarded.
  void check_resumed(const char* who) const {
    if (discarded) [[unlikely]]
      throw_discarded(who);
  }

 private:
  // Out of line and cold: building the message would otherwise keep every await_resume from
  // being inlined into the coroutine that awaits.
  [[noreturn, gnu::cold, gnu::noinline]] static void throw_discarded(const char* who) {
    MAGPIE_THROW(runtime_closed(std::string(who) + ": discarded by shutdown(cancel)"));
  }
};

/// The task's callable: 8 bytes, so it lives inline in the task block.
class resume_job {
 public:
  explicit resume_job(resumable& r) noexcept : r_(&r) {}
  resume_job(resume_job&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  resume_job& operator=(resume_job&&) = delete;
  ~resume_job() {
    if (r_ != nullptr) [[unlikely]] {  // destroyed unrun: discarded
      r_->discarded = true;
      r_->handle.resume();
    }
  }
  void operator()() {
    take_back_chain = 0;  // a new chain of transfers starts on a fresh stack
    std::exchange(r_, nullptr)->handle.resume();
  }
  /// Forgets the coroutine: destroying the job then resumes nothing (the awaiter that built it
  /// resumes its coroutine itself, or throws from await_suspend, after all).
  void disarm() noexcept { r_ = nullptr; }
  /// Whether `t` is a resumption of `r` (only the owner of `r` may then take it back).
  static bool resumes(const task& t, const resumable& r) noexcept {
    return t.ops == &inline_ops<resume_job> &&
           std::launder(reinterpret_cast<const resume_job*>(t.storage))->r_ == &r;
  }

 private:
  resumable* r_;
};

/// Queues the resumption of `r` on `core`: on one of its workers (normal lane) the worker's own
/// deque, where it may be stolen; elsewhere, or for another lane, the injector. `detached`: a
/// new root (refused once shutdown began) rather than the continuation of accepted work. Throws
/// runtime_closed naming `who` if refused, std::bad_alloc with nothing accepted.
inline void resume_on(runtime_core& core, resumable& r, priority p, bool detached,
                      const char* who) {
  worker_base* w = tls_worker;
  if (w != nullptr && w->core == &core && p == priority::normal && !detached) {
    w->push_untimed(resume_job(r));
    return;
  }
  const reservation res = reserve_slot(core, true, detached);
  if (res.kind == slot::closed)
    MAGPIE_THROW(runtime_closed(std::string(who) + ": runtime is shut down"));
  MAGPIE_TRY {
    submit_callable(core, res, resume_job(r), nullptr, p);
  }
  MAGPIE_CATCH(const std::bad_alloc&) {
    // Only the injector throws here, after destroying the job, which resumed `r` as discarded:
    // the coroutine has already seen runtime_closed and must not be resumed again.
  }
}

/// A coroutine that ran detached (runtime::spawn) ended with `e`: counted and passed to
/// config.on_exception of `core`, as a detached task's exception. Never throws.
MAGPIE_API void report_coroutine_exception(runtime_core& core, std::exception_ptr e) noexcept;

}  // namespace magpie::detail

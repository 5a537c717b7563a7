// magpie::future<T>: the result of runtime::async. Unlike std::future, get() on a worker runs
// other tasks while it waits (the task it waits for may be behind it in the same deque), so
// recursive async code cannot deadlock a runtime with few workers.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "magpie/detail/group_state.hpp"
#include "magpie/detail/group_wait.hpp"
#include "magpie/errors.hpp"
#include "magpie/runtime.hpp"

namespace magpie {

namespace detail {

/// What the task and its futures share. The group counts the one task, so waiting reuses
/// task_group's wait-and-help; the group has no parent: an async task is not canceled with the
/// group whose task started it (nothing could then deliver its result).
template <class T>
struct future_state {
  // The lane is unused: the job is submitted as a detached task in the caller's lane.
  explicit future_state(runtime_core& core) : group(core, priority::normal, nullptr) {}
  group_state group;
  // Written by the task before its count drops to zero; read after the waiter saw zero.
  std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value;
  std::exception_ptr error;
};

/// The async tasks running on this thread, innermost first: a task that waits runs others
/// inside it, and none of them can finish before those above it on the stack return.
struct running_future {
  const group_state* group;
  running_future* outer;
};
/// This thread's list (thread-local, kept in the library so every module sees one).
MAGPIE_API running_future*& running_futures() noexcept;
/// Throws std::logic_error naming `who` if `g` is the future of a task running on this thread
/// (the wait could never return).
MAGPIE_API void check_not_own_future(const group_state& g, const char* who);

/// Lists an async task as running on this thread for as long as it runs.
class running_future_scope {
 public:
  explicit running_future_scope(const group_state& g) noexcept : self_{&g, running_futures()} {
    running_futures() = &self_;
  }
  ~running_future_scope() { running_futures() = self_.outer; }
  running_future_scope(const running_future_scope&) = delete;
  running_future_scope& operator=(const running_future_scope&) = delete;

 private:
  running_future self_;
};

/// The task of runtime::async. Whether it runs or is discarded (shutdown(cancel)), its
/// destructor completes the state: exactly one count goes down, so a waiter always returns.
template <class T, class F>
class async_job {
 public:
  async_job(std::shared_ptr<future_state<T>> s, F&& f) : state_(std::move(s)), f_(std::move(f)) {}
  async_job(std::shared_ptr<future_state<T>> s, const F& f) : state_(std::move(s)), f_(f) {}
  async_job(async_job&&) = default;  // leaves the source's state_ null: it completes nothing
  async_job& operator=(async_job&&) = delete;
  ~async_job() {
    if (state_ == nullptr) return;
    if (!state_->value && !state_->error) {
      state_->error = std::make_exception_ptr(
          runtime_closed("magpie::future: the task was discarded by shutdown(cancel)"));
    }
    end_group_task(state_->group);  // the state itself lives on in state_ until after this
  }

  void operator()() {
    const running_future_scope running(state_->group);
    try {
      if constexpr (std::is_void_v<T>) {
        std::invoke(f_);
        state_->value.emplace();
      } else {
        state_->value.emplace(std::invoke(f_));
      }
    } catch (...) {
      state_->error = std::current_exception();
    }
  }

 private:
  std::shared_ptr<future_state<T>> state_;
  F f_;
};

}  // namespace detail

/// The eventual result of runtime::async: a value of type T (nothing for void) or the exception
/// the task threw. Move-only; dropping a future does not wait (the task still runs). Its
/// members are not thread-safe against each other on one future object.
template <class T>
class future {
 public:
  future() noexcept = default;
  future(future&&) noexcept = default;
  future& operator=(future&&) noexcept = default;
  future(const future&) = delete;
  future& operator=(const future&) = delete;

  /// Whether this future still refers to a result (false when default-constructed, moved
  /// from, or after get()).
  bool valid() const noexcept { return state_ != nullptr; }
  /// Whether the result is there: get() will not wait. False if !valid(). Never blocks.
  bool ready() const noexcept { return state_ != nullptr && state_->group.outstanding() == 0; }

  /// Waits for the result. On a worker of the task's runtime it runs other tasks meanwhile;
  /// elsewhere (another runtime's worker included) it spins briefly, then sleeps. Throws
  /// std::logic_error if !valid().
  /// std::logic_error, too, when called from the future's own task (or from a task that task
  /// is waiting in, on the same worker): the wait could never return.
  void wait() const {
    detail::group_state& g = checked("magpie::future::wait").group;
    detail::check_not_own_future(g, "magpie::future::wait");
    detail::wait_group_until(g, std::chrono::steady_clock::time_point::max(),
                             "magpie::future::wait");
  }
  /// As wait(), giving up after `timeout`; returns ready().
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    detail::group_state& g = checked("magpie::future::wait_for").group;
    detail::check_not_own_future(g, "magpie::future::wait_for");
    return detail::wait_group_until(g, detail::deadline_after(timeout), "magpie::future::wait_for");
  }

  /// Waits (as wait()), then returns the value or rethrows the task's exception — or
  /// runtime_closed if shutdown(cancel) discarded the task. The future is then no longer
  /// valid(). Throws std::logic_error if !valid().
  T get() {
    detail::check_not_own_future(checked("magpie::future::get").group, "magpie::future::get");
    wait();
    const std::shared_ptr<detail::future_state<T>> s = std::move(state_);
    if (s->error) {
      // Take it out of the shared state, which the job may release last on its worker: this
      // thread then holds the only reference. (Sharing would be safe too — exception_ptr counts
      // atomically — but inside libstdc++, where ThreadSanitizer cannot see the ordering.)
      std::exception_ptr e = std::move(s->error);
      std::rethrow_exception(e);
    }
    if constexpr (!std::is_void_v<T>) return std::move(*s->value);
  }

 private:
  friend class runtime;
  friend class strand;  // strand::async
  explicit future(std::shared_ptr<detail::future_state<T>> s) noexcept : state_(std::move(s)) {}

  detail::future_state<T>& checked(const char* who) const {
    if (state_ == nullptr) {
      throw std::logic_error(std::string(who) +
                             ": no result here (default-constructed, moved from, or get() "
                             "already called)");
    }
    return *state_;
  }

  std::shared_ptr<detail::future_state<T>> state_;
};

template <class F>
auto runtime::async(F&& f, priority p) {
  using D = std::decay_t<F>;
  using R = std::invoke_result_t<D&>;
  static_assert(!std::is_reference_v<R>,
                "magpie::runtime::async: the callable returns a reference; return a value or a "
                "std::reference_wrapper");
  detail::require_callable(f, "magpie::runtime::async");
  auto state = std::make_shared<detail::future_state<R>>(*core_);
  // relaxed: nobody else sees the state before submit publishes the job.
  state->group.word.store(detail::group_state::one_task, std::memory_order_relaxed);
  const detail::reservation r = detail::reserve_slot(*core_, true);
  if (r.kind == detail::slot::closed)
    throw runtime_closed("magpie::runtime::async: runtime is shut down");
  // If the job is refused (bad_alloc), destroying it completes the state.
  detail::submit_callable(*core_, r, detail::async_job<R, D>(state, std::forward<F>(f)), nullptr,
                          p);
  return future<R>(std::move(state));
}

template <class F, class A0, class... As>
requires(!std::is_same_v<std::decay_t<A0>, priority>) auto runtime::async(F&& f, A0&& a0,
                                                                          As&&... as) {
  using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<A0>, std::decay_t<As>...>;
  static_assert(!std::is_reference_v<R>,
                "magpie::runtime::async: the callable returns a reference; return a value or a "
                "std::reference_wrapper");
  using D = std::decay_t<F>;
  D fn(std::forward<F>(f));  // decayed first: a function reference is never null
  // A null pointer or an empty std::function (explicit bool); not a captureless lambda.
  if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D> ||
                (std::is_constructible_v<bool, const D&> &&
                 !std::is_convertible_v<const D&, bool>)) {
    if (!static_cast<bool>(fn))
      throw std::invalid_argument("magpie::runtime::async: empty callable");
  }
  return async(
      [fn = std::move(fn), args = std::tuple<std::decay_t<A0>, std::decay_t<As>...>(
                               std::forward<A0>(a0), std::forward<As>(as)...)]() mutable -> R {
        return std::apply(std::move(fn), std::move(args));
      });
}

}  // namespace magpie

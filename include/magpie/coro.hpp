// C++20 coroutines on a Magpie runtime (docs/coroutines.md): magpie::task<T>, when_all,
// schedule, sync_wait, runtime::spawn, co_await on a future or a shared_future,
// this_task::is_canceled and this_task::stop_token.
#pragma once

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "magpie/config.hpp"
#include "magpie/detail/coro_resume.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/detail/group_wait.hpp"
#include "magpie/detail/worker_base.hpp"
#include "magpie/errors.hpp"
#include "magpie/future.hpp"
#include "magpie/runtime.hpp"
#include "magpie/task_group.hpp"

namespace magpie {

template <class T = void>
class task;

namespace detail {

struct promise_base;

/// What happens when a coroutine that nobody awaits directly (a when_all child, a root) ends:
/// returns the coroutine to transfer to (noop_coroutine() for none). Called in final_suspend's
/// await_suspend, so the frame may be destroyed by it or by another thread from then on.
struct completion {
  virtual std::coroutine_handle<> on_final(promise_base& p) noexcept = 0;

 protected:
  constexpr completion() noexcept = default;
  explicit constexpr completion(bool pair) noexcept : is_pair(pair) {}
  ~completion() = default;

 public:
  // A join_pair (when_all of two): final_suspend runs its on_final inline, with no indirect
  // call, since every fork-join node ends through it.
  const bool is_pair = false;
};

std::coroutine_handle<> finish_pair_child(completion& j, promise_base& p) noexcept;

/// Frames come from the current worker's frame_pool (no malloc in the steady state); elsewhere
/// from the global heap, rounded to the same size classes, so either may free into the other.
inline void* allocate_frame(std::size_t n) {
  if (worker_base* w = tls_worker) return w->frames.allocate(n);
  return frame_pool::allocate_unpooled(n);
}
inline void free_frame(void* p, std::size_t n) noexcept {
  if (worker_base* w = tls_worker) {
    w->frames.release(p, n);
  } else {
    ::operator delete(p);
  }
}

struct promise_base : resumable {
  static void* operator new(std::size_t n) { return allocate_frame(n); }
  static void operator delete(void* p, std::size_t n) noexcept { free_frame(p, n); }

  std::coroutine_handle<> continuation;  // the coroutine that awaits this one, if any
  completion* done = nullptr;            // otherwise: a when_all, sync_wait or a detached root
  // The cancellation scope: the group whose tree this coroutine belongs to (task_group::spawn),
  // inherited by what it awaits. Null: none.
  const group_state* scope = nullptr;
  runtime_core* root_core = nullptr;  // a detached root: the runtime that spawned it
  std::exception_ptr error;
  std::size_t index = 0;  // a when_all child: its place among the children

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      promise_base& p = h.promise();
      if (p.continuation) return p.continuation;  // symmetric transfer: no stack growth
      if (p.done->is_pair) return finish_pair_child(*p.done, p);
      return p.done->on_final(p);
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

/// Runs a task body's start: throws runtime_closed if its first resumption was discarded.
struct start_awaiter {
  promise_base* p;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const { p->check_resumed("magpie::task"); }
};

template <class T>
struct promise final : promise_base {
  magpie::task<T> get_return_object() noexcept;
  start_awaiter initial_suspend() noexcept { return {this}; }
  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(std::exchange(error, nullptr));
    return std::move(*value);
  }
  std::optional<T> value;
};

template <>
struct promise<void> final : promise_base {
  magpie::task<void> get_return_object() noexcept;
  start_awaiter initial_suspend() noexcept { return {this}; }
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(std::exchange(error, nullptr));
  }
};

/// co_await on a task: starts it by symmetric transfer and resumes with its result.
template <class T>
struct task_awaiter {
  std::coroutine_handle<promise<T>> h;
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
    h.promise().continuation = parent;
    if constexpr (std::is_base_of_v<promise_base, P>) h.promise().scope = parent.promise().scope;
    return h;
  }
  T await_resume() { return h.promise().take(); }
};

}  // namespace detail

/// A lazy coroutine producing a T (or nothing): it starts when awaited (co_await, when_all),
/// passed to sync_wait, or spawned. Move-only; destroying a task that has not started frees its
/// frame. Awaiting it runs it on the awaiting thread by symmetric transfer, so a chain of
/// co_awaits of any depth uses constant stack; its exception propagates to the awaiter.
template <class T>
class [[nodiscard]] task {
  static_assert(!std::is_reference_v<T>, "magpie::task<T&>: return a value or a pointer");

 public:
  using promise_type = detail::promise<T>;
  using value_type = T;

  task() noexcept = default;
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  /// False for a default-constructed or moved-from task.
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  /// Awaiting a task starts it and resumes the awaiter with its result (or rethrows).
  /// Throws std::invalid_argument for an empty task.
  detail::task_awaiter<T> operator co_await() && {
    if (!h_) MAGPIE_THROW(std::invalid_argument("magpie::task: co_await on an empty task"));
    return detail::task_awaiter<T>{h_};
  }

  // For the library's awaiters (when_all, sync_wait, spawn).
  promise_type& promise() const noexcept { return h_.promise(); }
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }

 private:
  friend promise_type;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).destroy();
  }

  std::coroutine_handle<promise_type> h_;
};

namespace detail {

template <class T>
magpie::task<T> promise<T>::get_return_object() noexcept {
  handle = std::coroutine_handle<promise<T>>::from_promise(*this);
  return magpie::task<T>(std::coroutine_handle<promise<T>>::from_promise(*this));
}
inline magpie::task<void> promise<void>::get_return_object() noexcept {
  handle = std::coroutine_handle<promise<void>>::from_promise(*this);
  return magpie::task<void>(std::coroutine_handle<promise<void>>::from_promise(*this));
}

/// A child's result as when_all returns it: void becomes std::monostate.
template <class T>
using result_of = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
template <class T>
result_of<T> take_result(promise<T>& p) {
  if constexpr (std::is_void_v<T>) {
    p.take();
    return {};
  } else {
    return p.take();
  }
}

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_not_on_worker() {
  MAGPIE_THROW(std::logic_error(
      "magpie::when_all: awaited on a thread that is not a worker (resume the coroutine on "
      "a runtime first, e.g. co_await magpie::schedule(rt))"));
}

/// The countdown of a when_all, in the awaiting coroutine's frame. Each child's completion
/// lowers it; the last resumes the parent on the thread that finished that child.
class join_counter final : public completion {
 public:
  std::coroutine_handle<> on_final(promise_base& p) noexcept override {
    const std::size_t k = p.index;
    if (k + 1 < n_ && tls_worker == pusher_ && take_back_chain < max_take_back_chain) {
      // The next child, if nobody stole it, is still the newest task of this worker's deque
      // (whatever this child pushed has ended): take it back and run it here, at once.
      promise_base& next = *children_[k + 1];
      if (pusher_->take_back([&next](const task& t) { return resume_job::resumes(t, next); })) {
        ++take_back_chain;
        // Only children other than these two could count concurrently: when none is left,
        // nobody but us (and `next`, later, on this thread or after a hand-over) touches the
        // count, so no RMW is needed. acquire: their results, published by their decrements.
        if (left_.load(std::memory_order_acquire) == 2) {
          left_.store(1, std::memory_order_relaxed);
        } else {
          left_.fetch_sub(1, std::memory_order_acq_rel);  // as below
        }
        return next.handle;
      }
    }
    // The last child resumes the parent. Seeing 1 (acquire: every other child's decrement,
    // hence its result) means this is the last, with no RMW; otherwise acq_rel: release
    // publishes this child's result, acquire sees the others' before the parent reads them.
    if (left_.load(std::memory_order_acquire) == 1 ||
        left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      return parent_;
    }
    return std::noop_coroutine();
  }

  /// Starts the children: all but the first are pushed to this worker's deque (thieves may take
  /// them); the first is returned to run here at once by symmetric transfer. `children` must
  /// live as long as this counter.
  std::coroutine_handle<> start(std::coroutine_handle<> parent, const group_state* scope,
                                promise_base* const* children, std::size_t n) {
    worker_base* w = tls_worker;
    if (w == nullptr) [[unlikely]]
      throw_not_on_worker();
    parent_ = parent;
    pusher_ = w;
    children_ = children;
    n_ = n;
    // relaxed: no child runs before the pushes below publish it.
    left_.store(n, std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) {
      children[i]->done = this;
      children[i]->scope = scope;
      children[i]->index = i;
    }
    for (std::size_t i = n; i-- > 1;) {
      MAGPIE_TRY {
        w->push_untimed(resume_job(*children[i]));
      }
      MAGPIE_CATCH(...) {
        // Out of memory: children[i] never starts; it ends here with the error, so that the
        // count still reaches zero once the pushed ones finish.
        children[i]->error = std::current_exception();
        left_.fetch_sub(1, std::memory_order_relaxed);  // the first child is still to come
      }
    }
    return children[0]->handle;
  }

 private:
  std::atomic<std::size_t> left_{0};
  std::coroutine_handle<> parent_;
  worker_base* pusher_ = nullptr;
  promise_base* const* children_ = nullptr;
  std::size_t n_ = 0;
};

/// join_counter for exactly two children, the shape of every binary fork-join node: nothing to
/// index or loop over, and final_suspend runs on_final inline (completion::is_pair).
class join_pair final : public completion {
 public:
  constexpr join_pair() noexcept : completion(true) {}

  std::coroutine_handle<> on_final(promise_base& p) noexcept override {
    if (&p == first_ && tls_worker == pusher_ && take_back_chain < max_take_back_chain) {
      // The second child, if nobody stole it, is still the newest task of this worker's deque
      // (whatever the first pushed has ended): take it back and run it here, at once.
      promise_base& second = *second_;
      if (pusher_->take_back([&second](const task& t) { return resume_job::resumes(t, second); })) {
        ++take_back_chain;
        // Nobody else counts any more: the second child's end (on this thread, or after a
        // hand-over that publishes this store) is the last. relaxed: the first child's result
        // is published to whoever resumes the parent by that same path.
        left_.store(1, std::memory_order_relaxed);
        return second.handle;
      }
    }
    // As join_counter: seeing 1 (acquire: the other child's decrement, hence its result) means
    // this is the last, with no RMW; otherwise acq_rel publishes this child's result and, for
    // the last, acquires the other's before the parent reads them.
    if (left_.load(std::memory_order_acquire) == 1 ||
        left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      return parent_;
    }
    return std::noop_coroutine();
  }

  /// Pushes `second` to this worker's deque (thieves may take it) and returns `first` to run
  /// here at once by symmetric transfer.
  std::coroutine_handle<> start(std::coroutine_handle<> parent, const group_state* scope,
                                promise_base& first, promise_base& second) {
    worker_base* w = tls_worker;
    if (w == nullptr) [[unlikely]]
      throw_not_on_worker();
    parent_ = parent;
    pusher_ = w;
    first_ = &first;
    second_ = &second;
    // relaxed: no child runs before the push below publishes it.
    left_.store(2, std::memory_order_relaxed);
    first.done = this;
    first.scope = scope;
    second.done = this;
    second.scope = scope;
    MAGPIE_TRY {
      w->push_untimed(resume_job(second));
    }
    MAGPIE_CATCH(...) {
      // Out of memory: the second child never starts; it ends here with the error.
      second.error = std::current_exception();
      left_.store(1, std::memory_order_relaxed);  // the first has not started yet
    }
    return first.handle;
  }

 private:
  // Set by start() (nothing reads them before): no stores to make twice per node.
  std::atomic<std::size_t> left_;
  std::coroutine_handle<> parent_;
  worker_base* pusher_;
  promise_base* first_;
  promise_base* second_;
};

inline std::coroutine_handle<> finish_pair_child(completion& j, promise_base& p) noexcept {
  return static_cast<join_pair&>(j).on_final(p);
}

template <class P>
const group_state* scope_of(std::coroutine_handle<P> h) noexcept {
  if constexpr (std::is_base_of_v<promise_base, P>) {
    return h.promise().scope;
  } else {
    return nullptr;
  }
}

template <class... T>
class when_all_awaiter {
 public:
  explicit when_all_awaiter(magpie::task<T>&&... ts) : tasks_(std::move(ts)...) {}
  when_all_awaiter(const when_all_awaiter&) = delete;
  when_all_awaiter& operator=(const when_all_awaiter&) = delete;

  bool await_ready() const noexcept { return sizeof...(T) == 0; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) {
    if constexpr (pair) {
      return join_.start(parent, scope_of(parent), std::get<0>(tasks_).promise(),
                         std::get<1>(tasks_).promise());
    } else {
      std::apply(
          [this](magpie::task<T>&... ts) {
            std::size_t i = 0;
            ((children_[i++] = &ts.promise()), ...);
          },
          tasks_);
      return join_.start(parent, scope_of(parent), children_, sizeof...(T));
    }
  }
  std::tuple<result_of<T>...> await_resume() {
    // Every child ended: rethrow the first exception in argument order, else take the values.
    std::apply([](magpie::task<T>&... ts) { (rethrow_if_failed(ts.promise()), ...); }, tasks_);
    return std::apply(
        [](magpie::task<T>&... ts) {
          return std::tuple<result_of<T>...>(take_result(ts.promise())...);
        },
        tasks_);
  }

 private:
  static void rethrow_if_failed(promise_base& p) {
    if (p.error) std::rethrow_exception(std::exchange(p.error, nullptr));
  }

  static constexpr bool pair = sizeof...(T) == 2;
  struct no_children {};

  std::tuple<magpie::task<T>...> tasks_;
  [[no_unique_address]] std::conditional_t<pair, no_children,
                                           promise_base* [sizeof...(T) == 0 ? 1 : sizeof...(T)]>
      children_ {};
  std::conditional_t<pair, join_pair, join_counter> join_;
};

template <class T>
class when_all_vector_awaiter {
 public:
  explicit when_all_vector_awaiter(std::vector<magpie::task<T>>&& ts) : tasks_(std::move(ts)) {}
  when_all_vector_awaiter(const when_all_vector_awaiter&) = delete;
  when_all_vector_awaiter& operator=(const when_all_vector_awaiter&) = delete;

  bool await_ready() const noexcept { return tasks_.empty(); }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) {
    children_.reserve(tasks_.size());
    for (magpie::task<T>& t : tasks_)
      children_.push_back(&t.promise());
    return join_.start(parent, scope_of(parent), children_.data(), children_.size());
  }
  std::vector<result_of<T>> await_resume() {
    for (magpie::task<T>& t : tasks_) {
      if (t.promise().error) std::rethrow_exception(std::exchange(t.promise().error, nullptr));
    }
    std::vector<result_of<T>> out;
    out.reserve(tasks_.size());
    for (magpie::task<T>& t : tasks_)
      out.push_back(take_result(t.promise()));
    return out;
  }

 private:
  std::vector<magpie::task<T>> tasks_;
  std::vector<promise_base*> children_;
  join_counter join_;
};

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_empty_task(const char* who) {
  MAGPIE_THROW(std::invalid_argument(std::string(who) + ": empty task (moved from?)"));
}
// The check inline, the message out of line (cold), so that when_all inlines into its caller.
inline void require_task(bool nonempty, const char* who) {
  if (!nonempty) [[unlikely]]
    throw_empty_task(who);
}

}  // namespace detail

/// co_await when_all(t1, t2, ...): runs the tasks in parallel on the current worker's runtime
/// (the first inline, the others on this worker's deque, where idle workers steal them) and
/// resumes, on the worker that finished the last one, with a std::tuple of their results (void
/// gives std::monostate). If any threw, rethrows the first in argument order once all ended.
/// Throws std::invalid_argument for an empty task.
template <class... T>
detail::when_all_awaiter<T...> when_all(magpie::task<T>... ts) {
  (detail::require_task(static_cast<bool>(ts), "magpie::when_all"), ...);
  return detail::when_all_awaiter<T...>(std::move(ts)...);
}
/// As above for a vector of tasks: resumes with a vector of their results, in order.
template <class T>
detail::when_all_vector_awaiter<T> when_all(std::vector<magpie::task<T>> ts) {
  for (const magpie::task<T>& t : ts)
    detail::require_task(static_cast<bool>(t), "magpie::when_all");
  return detail::when_all_vector_awaiter<T>(std::move(ts));
}

namespace detail {

class schedule_awaiter : resumable {
 public:
  schedule_awaiter(runtime& rt, priority p) noexcept
      : core_(&detail::runtime_access::core(rt)), prio_(p) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    handle = h;
    resume_on(*core_, *this, prio_, false, "magpie::schedule");
  }
  void await_resume() const { check_resumed("magpie::schedule"); }

 private:
  runtime_core* core_;
  priority prio_;
};

}  // namespace detail

/// co_await schedule(rt): the coroutine continues on a worker of `rt`, in lane `p`. From any
/// thread, including a worker of another runtime; on a worker of `rt` it lets queued work run
/// first (normal lane: this worker's deque, where it may also be stolen). Throws runtime_closed
/// if `rt` refuses work; if shutdown(cancel) discards the resumption, the co_await throws
/// runtime_closed on the discarding thread.
inline detail::schedule_awaiter schedule(runtime& rt, priority p = priority::normal) noexcept {
  return detail::schedule_awaiter(rt, p);
}

namespace detail {

/// sync_wait's completion: wakes the blocked thread.
class sync_completion final : public completion {
 public:
  std::coroutine_handle<> on_final(promise_base&) noexcept override {
    // The notify happens under the lock, so the waiter cannot return (and destroy this) before
    // this thread has let go of the mutex; nothing here is touched after the unlock.
    const std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_one();
    return std::noop_coroutine();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

/// A detached root (runtime::spawn): reports its exception and frees its own frame. Stateless
/// (the runtime is in the promise), so one constant object serves every root.
class detached_completion final : public completion {
 public:
  constexpr detached_completion() noexcept = default;
  std::coroutine_handle<> on_final(promise_base& p) noexcept override;
};
inline constinit detached_completion detached_root{};

}  // namespace detail

/// Runs `t` on a worker of `rt` and blocks the calling thread until it ends; returns its value
/// or rethrows its exception. Throws std::logic_error on a worker of `rt` (co_await instead: a
/// worker must not block), std::invalid_argument for an empty task, runtime_closed if `rt` is
/// shut down (or discards the task).
template <class T>
T sync_wait(runtime& rt, magpie::task<T> t) {
  if (rt.is_current_worker()) {
    MAGPIE_THROW(std::logic_error(
        "magpie::sync_wait: called on a worker of the runtime (it would block the worker); "
        "co_await the task instead"));
  }
  detail::require_task(static_cast<bool>(t), "magpie::sync_wait");
  detail::sync_completion done;
  t.promise().done = &done;
  detail::resume_on(detail::runtime_access::core(rt), t.promise(), priority::normal, true,
                    "magpie::sync_wait");
  done.wait();
  return t.promise().take();
}

namespace detail {

/// A root started by task_group::spawn: its error is the group's, its end the group's count.
class group_completion final : public completion {
 public:
  constexpr group_completion() noexcept = default;
  std::coroutine_handle<> on_final(promise_base& p) noexcept override {
    // The group outlives its tasks (its destructor waits for them), and only this root's end
    // lets its count reach zero, so it is not const for us here.
    group_state& g = const_cast<group_state&>(*p.scope);
    if (p.error) g.record_error(std::exchange(p.error, nullptr));
    p.handle.destroy();
    finish_group_task(g);  // touches nothing in g after the decrement
    return std::noop_coroutine();
  }
};
inline constinit group_completion group_root{};

}  // namespace detail

inline void task_group::spawn(magpie::task<void> t) {
  detail::require_task(static_cast<bool>(t), "magpie::task_group::spawn");
  detail::promise<void>& p = t.promise();
  p.scope = &state_;
  p.done = &detail::group_root;
  state_.add_shared();
  MAGPIE_TRY {
    detail::resume_on(*state_.core, p, state_.prio, false, "magpie::task_group::spawn");
  }
  MAGPIE_CATCH(...) {
    detail::finish_group_task(state_);
    MAGPIE_RETHROW;
  }
  static_cast<void>(t.release());  // the frame frees itself when it ends
}

inline void runtime::spawn(magpie::task<void> t) {
  detail::require_task(static_cast<bool>(t), "magpie::runtime::spawn");
  t.promise().done = &detail::detached_root;
  t.promise().root_core = core_.get();
  detail::resume_on(*core_, t.promise(), priority::normal, true, "magpie::runtime::spawn");
  static_cast<void>(t.release());  // the frame frees itself when it ends
}

namespace detail {

inline std::coroutine_handle<> detached_completion::on_final(promise_base& p) noexcept {
  std::exception_ptr e = std::exchange(p.error, nullptr);
  runtime_core& core = *p.root_core;
  p.handle.destroy();  // suspended at its final point: may be destroyed here
  if (e) report_coroutine_exception(core, std::move(e));
  return std::noop_coroutine();
}

}  // namespace detail

namespace detail {

/// Queues the resumption of `r`, whose result `core` just completed (a ready_hook's firing):
/// on this thread's deque when it is a worker of `core`, else through the injector.
inline void resume_completed(resumable& r, runtime_core& core) noexcept {
  worker_base* w = tls_worker;
  MAGPIE_TRY {
    if (w != nullptr && w->core == &core) {
      w->push_untimed(resume_job(r));
      return;
    }
    // Completed off the runtime's workers (a discard by shutdown): no waiting for room.
    const reservation res = reserve_slot(core, false, false);
    if (res.kind == slot::local || res.kind == slot::injector) {
      submit_callable(core, res, resume_job(r), nullptr, priority::normal);
      return;
    }
  }
  MAGPIE_CATCH(const std::bad_alloc&) {
    return;  // the job was destroyed, which resumed the coroutine (as discarded)
  }
  // The runtime takes no more work: continue here rather than never.
  r.handle.resume();
}

/// co_await on a future: the coroutine is resumed by a task queued by the thread that completes
/// the result (its own deque when that is a worker of the future's runtime).
template <class T>
class future_awaiter final : resumable, ready_hook {
 public:
  explicit future_awaiter(future<T>&& f) : ready_hook{&fire}, f_(std::move(f)) {
    state_ = &future_access::state(f_, "magpie::future: co_await");
    if (state_->has_hook())
      MAGPIE_THROW(
          std::logic_error("magpie::future: co_await on a future with an on_ready callback"));
  }
  bool await_ready() const noexcept { return f_.ready(); }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    handle = h;
    return state_->set_hook(*this);  // false: ready meanwhile, continue at once
  }
  T await_resume() {
    check_resumed("magpie::future: co_await");
    return f_.get();
  }

 private:
  static void fire(ready_hook* self) noexcept {
    auto* me = static_cast<future_awaiter*>(self);
    resume_completed(*me, *me->state_->group.core);
  }

  future<T> f_;
  future_state<T>* state_;
};

/// co_await on a shared_future: any number of coroutines (and threads) may await one result;
/// each adds its own hook. `Owned`: the awaiter holds the only handle the caller gave it (an
/// rvalue), so it resumes with a copy of the value rather than a reference into the state.
template <class T, bool Owned>
class shared_future_awaiter final : resumable, ready_hook {
 public:
  explicit shared_future_awaiter(shared_future<T> f)
      : ready_hook{&fire},
        f_(std::move(f)),
        state_(&future_access::state(f_, "magpie::shared_future: co_await")) {}
  bool await_ready() const noexcept { return f_.ready(); }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    handle = h;
    return state_->add_hook(*this);  // false: ready meanwhile, continue at once
  }
  decltype(auto) await_resume() const {
    check_resumed("magpie::shared_future: co_await");
    if constexpr (Owned && !std::is_void_v<T>) {
      return T(f_.get());
    } else {
      return f_.get();
    }
  }

 private:
  static void fire(ready_hook* self) noexcept {
    auto* me = static_cast<shared_future_awaiter*>(self);
    resume_completed(*me, *me->state_->group.core);
  }

  shared_future<T> f_;  // keeps the state alive while suspended
  future_state<T>* state_;
};

}  // namespace detail

/// co_await fut: suspends until the result is there (no worker waits) and returns it, or
/// rethrows the task's exception. Consumes the future. Throws std::logic_error if it is not
/// valid() or has an on_ready callback.
template <class T>
detail::future_awaiter<T> operator co_await(future<T>&& f) {
  return detail::future_awaiter<T>(std::move(f));
}
template <class T>
detail::future_awaiter<T> operator co_await(future<T>& f) {
  return detail::future_awaiter<T>(std::move(f));
}
/// co_await sf: suspends until the shared result is there, then returns a const reference to
/// the one value (a copy when sf is a temporary), or rethrows the exception; every awaiter of
/// the same result is resumed, each by its own task. Does not consume sf. Throws
/// std::logic_error if it is not valid().
template <class T>
detail::shared_future_awaiter<T, false> operator co_await(const shared_future<T>& f) {
  return detail::shared_future_awaiter<T, false>(f);
}
template <class T>
detail::shared_future_awaiter<T, true> operator co_await(shared_future<T>&& f) {
  return detail::shared_future_awaiter<T, true>(std::move(f));
}

namespace this_task {

/// co_await this_task::is_canceled(): whether the group this coroutine runs under (see
/// task_group::spawn(magpie::task<void>)), or an ancestor of it, was canceled. Advisory, as for
/// callables; false outside any group. Never suspends.
struct is_canceled {
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    scope_ = detail::scope_of(h);
    return false;  // never suspends: resumes at once with the answer
  }
  bool await_resume() const noexcept { return scope_ != nullptr && scope_->cancel_requested(); }

 private:
  const detail::group_state* scope_ = nullptr;
};

/// co_await this_task::stop_token(): the std::stop_token of the group this coroutine runs under
/// (task_group::stop_token), stop-requested once that group or an ancestor is canceled; an
/// empty token (stop_possible() false) outside any group. Never suspends; the first call for a
/// group takes a lock and allocates, so ask once and keep the token.
struct stop_token {
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    scope_ = detail::scope_of(h);
    return false;  // never suspends: resumes at once with the answer
  }
  std::stop_token await_resume() const {
    return scope_ != nullptr ? detail::group_stop_token(*scope_) : std::stop_token();
  }

 private:
  const detail::group_state* scope_ = nullptr;
};

}  // namespace this_task

}  // namespace magpie

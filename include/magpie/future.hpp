// magpie::future<T>: the result of runtime::async. Unlike std::future, get() on a worker runs
// other tasks while it waits (the task it waits for may be behind it in the same deque), so
// recursive async code cannot deadlock a runtime with few workers.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "magpie/config.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/detail/group_wait.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/errors.hpp"

namespace magpie {

namespace detail {

/// Something to run once a future's result is there (co_await on a future, future::on_ready):
/// run by the thread that completed the result, right after it did.
struct ready_hook {
  void (*fire)(ready_hook* self) noexcept;
  ready_hook* next = nullptr;  // the hook registered before this one (shared_future awaiters)
};

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
  // 0: no hook and not ready; ready_mark: the result is there; else the hook to fire once.
  static constexpr std::uintptr_t ready_mark = 1;
  std::atomic<std::uintptr_t> hook{0};

  /// Registers `h` to fire once the result is there; false (nothing registered) if it is
  /// already, or if a hook is set. `h` must outlive the firing.
  bool set_hook(ready_hook& h) noexcept {
    std::uintptr_t expected = 0;
    // acq_rel: release publishes `h` to the completer; acquire (also on failure) sees the value
    // written before ready_mark.
    return hook.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(&h),
                                        std::memory_order_acq_rel, std::memory_order_acquire);
  }
  /// For a shared result: adds `h` to the hooks to fire, whatever is registered already; false
  /// (nothing registered) if the result is there. `h` must outlive the firing.
  bool add_hook(ready_hook& h) noexcept {
    // acquire: on seeing ready_mark, the value written before it.
    std::uintptr_t v = hook.load(std::memory_order_acquire);
    do {
      if (v == ready_mark) return false;
      h.next = reinterpret_cast<ready_hook*>(v);
      // acq_rel: release publishes `h` (and its next) to the completer; acquire as above.
    } while (!hook.compare_exchange_weak(v, reinterpret_cast<std::uintptr_t>(&h),
                                         std::memory_order_acq_rel, std::memory_order_acquire));
    return true;
  }
  bool has_hook() const noexcept {
    const std::uintptr_t v = hook.load(std::memory_order_relaxed);  // relaxed: misuse check
    return v != 0 && v != ready_mark;
  }
  /// The completer, after writing the value or error: marks the result ready and fires the
  /// hooks, newest first.
  void mark_ready() noexcept {
    // acq_rel: release publishes the value to a later set_hook; acquire sees the hooks' fields.
    std::uintptr_t h = hook.exchange(ready_mark, std::memory_order_acq_rel);
    for (ready_hook* r = reinterpret_cast<ready_hook*>(h); r != nullptr;) {
      ready_hook* const next = r->next;  // firing may free r (a resumed coroutine's frame)
      r->fire(r);
      r = next;
    }
  }
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
/// A future::on_ready callback threw `e`: counted and passed to config.on_exception of `core`.
MAGPIE_API void report_callback_exception(runtime_core& core, std::exception_ptr e) noexcept;

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
#if MAGPIE_EXCEPTIONS  // without, get() reports the discard through MAGPIE_ON_ERROR
    if (!state_->value && !state_->error) {
      state_->error = std::make_exception_ptr(
          runtime_closed("magpie::future: the task was discarded by shutdown(cancel)"));
    }
#endif
    end_group_task(state_->group);  // the state itself lives on in state_ until after this
    state_->mark_ready();
  }

  void operator()() {
    const running_future_scope running(state_->group);
    MAGPIE_TRY {
      if constexpr (std::is_void_v<T>) {
        std::invoke(f_);
        state_->value.emplace();
      } else {
        state_->value.emplace(std::invoke(f_));
      }
    }
    MAGPIE_CATCH(...) {
      state_->error = std::current_exception();
    }
  }

 private:
  std::shared_ptr<future_state<T>> state_;
  F f_;
};

struct future_access;

/// A new state counting one outstanding producer (the task, the promise, the combinator).
template <class T>
std::shared_ptr<future_state<T>> make_future_state(runtime_core& core) {
  auto s = std::make_shared<future_state<T>>(core);
  // relaxed: nobody else sees the state before it is published (a submit, a hook, a return).
  s->group.word.store(group_state::one_task, std::memory_order_relaxed);
  return s;
}
/// The producer wrote the value or the error: wakes waiters, then fires the hook. The caller
/// holds a reference to the state across the call.
template <class T>
void complete_future_state(future_state<T>& s) noexcept {
  end_group_task(s.group);
  s.mark_ready();
}

}  // namespace detail

template <class T>
class shared_future;
class runtime;

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

  /// As wait(), giving up at `deadline`; returns ready().
  template <class Clock, class Duration>
  bool wait_until(std::chrono::time_point<Clock, Duration> deadline) const {
    return wait_for(deadline - Clock::now());
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
    // Only without exceptions is a discarded task's state left with neither value nor error.
    if (!s->value)
      MAGPIE_THROW(runtime_closed("magpie::future: the task was discarded by shutdown(cancel)"));
    if constexpr (!std::is_void_v<T>) return std::move(*s->value);
  }

  /// Calls f() once the result is there: on the worker that completed it, right after (or at
  /// once, on this thread, if it already is). get() does not wait inside f. Meant for event
  /// loops: f should only hand the news over (docs/coroutines.md wakes an epoll loop with an
  /// eventfd). An exception f throws goes to config.on_exception. Allocates the callback.
  /// Throws std::logic_error if !valid() or a callback (or a co_await) is already attached.
  template <class F>
  void on_ready(F&& f);

  /// Runs f(future<T>) on a worker of the future's runtime once this result is there (with this
  /// future, ready: f calls get() for the value or the exception) and returns a future of what
  /// f returns. Consumes this future. If the runtime no longer takes work, the returned future
  /// holds runtime_closed; if its injector is full (max_pending), f runs on the thread that
  /// completed this result. Throws std::logic_error as on_ready does.
  template <class F>
  auto then(F&& f);

  /// A shared_future of the same result, for several waiters. Consumes this future. Throws
  /// std::logic_error if !valid().
  shared_future<T> share() {
    checked("magpie::future::share");
    return shared_future<T>(std::move(state_));
  }

 private:
  friend class runtime;
  template <class U>
  friend class promise;
  friend struct detail::future_access;
  friend class strand;  // strand::async
  explicit future(std::shared_ptr<detail::future_state<T>> s) noexcept : state_(std::move(s)) {}

  detail::future_state<T>& checked(const char* who) const {
    if (state_ == nullptr) {
      MAGPIE_THROW(std::logic_error(std::string(who) +
                                    ": no result here (default-constructed, moved from, or get() "
                                    "already called)"));
    }
    return *state_;
  }

  std::shared_ptr<detail::future_state<T>> state_;
};

namespace detail {

/// For the library's awaiters and hooks (magpie/coro.hpp).
struct future_access {
  template <class T>
  static future_state<T>& state(const future<T>& f, const char* who) {
    return f.checked(who);
  }
  template <class T>
  static std::shared_ptr<future_state<T>> shared(const future<T>& f) {
    return f.state_;
  }
  template <class T>
  static future<T> make(std::shared_ptr<future_state<T>> s) {
    return future<T>(std::move(s));
  }
  template <class T>
  static future_state<T>& state(const shared_future<T>& f, const char* who) {
    return f.checked(who);
  }
};

/// future::on_ready's hook: owns the callback and frees itself after calling it.
template <class F>
struct ready_callback final : ready_hook {
  ready_callback(F&& fn, runtime_core& c) : ready_hook{&run}, f(std::move(fn)), core(&c) {}
  static void run(ready_hook* self) noexcept {
    std::unique_ptr<ready_callback> me(static_cast<ready_callback*>(self));
    MAGPIE_TRY {
      std::invoke(me->f);
    }
    MAGPIE_CATCH(...) {
      report_callback_exception(*me->core, std::current_exception());
    }
  }
  F f;
  runtime_core* core;
};

}  // namespace detail

template <class T>
template <class F>
void future<T>::on_ready(F&& f) {
  detail::future_state<T>& s = checked("magpie::future::on_ready");
  if (s.has_hook())
    MAGPIE_THROW(
        std::logic_error("magpie::future::on_ready: a callback or co_await is already attached"));
  using D = std::decay_t<F>;
  auto cb = std::make_unique<detail::ready_callback<D>>(D(std::forward<F>(f)), *s.group.core);
  if (s.set_hook(*cb)) {
    static_cast<void>(cb.release());  // freed by the completer after the call
    return;
  }
  detail::ready_callback<D>::run(cb.release());  // already there: call it here
}

namespace detail {

/// future::then's hook: when the source is ready, queues f(source) as an async task of `next`.
template <class T, class R, class F>
struct then_hook final : ready_hook {
  then_hook(future<T>&& src, F&& fn, std::shared_ptr<future_state<R>> n)
      : ready_hook{&run}, source(std::move(src)), f(std::move(fn)), next(std::move(n)) {}
  static void run(ready_hook* self) noexcept {
    std::unique_ptr<then_hook> me(static_cast<then_hook*>(self));
    runtime_core& core = *me->next->group.core;
    auto call = [src = std::move(me->source), fn = std::move(me->f)]() mutable -> R {
      return std::invoke(fn, std::move(src));
    };
    // Destroying the job unrun (refused, out of memory) completes `next` with runtime_closed.
    async_job<R, decltype(call)> job(me->next, std::move(call));
    MAGPIE_TRY {
      const reservation r = reserve_slot(core, false);
      if (r.kind == slot::local || r.kind == slot::injector) {
        submit_callable(core, r, std::move(job), nullptr, priority::normal);
      } else if (r.kind == slot::full) {
        job();  // no room, and this thread must not wait for it: run here
      }
    }
    MAGPIE_CATCH(...) {  // std::bad_alloc: `job` or its moved-to task completes `next`
    }
  }
  future<T> source;
  F f;
  std::shared_ptr<future_state<R>> next;
};

}  // namespace detail

template <class T>
template <class F>
auto future<T>::then(F&& f) {
  using D = std::decay_t<F>;
  using R = std::invoke_result_t<D&, future<T>>;
  static_assert(!std::is_reference_v<R>, "magpie::future::then: f returns a reference");
  detail::future_state<T>& s = checked("magpie::future::then");
  if (s.has_hook())
    MAGPIE_THROW(
        std::logic_error("magpie::future::then: a callback or co_await is already attached"));
  auto next = detail::make_future_state<R>(*s.group.core);
  auto hook =
      std::make_unique<detail::then_hook<T, R, D>>(std::move(*this), D(std::forward<F>(f)), next);
  if (!s.set_hook(*hook)) {
    detail::then_hook<T, R, D>::run(hook.release());  // already there: queue it now
  } else {
    static_cast<void>(hook.release());  // freed by the completer after the call
  }
  return detail::future_access::make(std::move(next));
}

/// A result several threads may wait for and read: copyable, and get() returns a reference to
/// the one value (or rethrows the exception, to every caller). Made by future::share().
template <class T>
class shared_future {
 public:
  shared_future() noexcept = default;
  bool valid() const noexcept { return state_ != nullptr; }
  bool ready() const noexcept { return state_ != nullptr && state_->group.outstanding() == 0; }
  /// As future::wait; several threads may wait at once. Throws std::logic_error if !valid().
  void wait() const {
    detail::wait_group_until(checked("magpie::shared_future::wait").group,
                             std::chrono::steady_clock::time_point::max(),
                             "magpie::shared_future::wait");
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return detail::wait_group_until(checked("magpie::shared_future::wait_for").group,
                                    detail::deadline_after(timeout),
                                    "magpie::shared_future::wait_for");
  }
  template <class Clock, class Duration>
  bool wait_until(std::chrono::time_point<Clock, Duration> deadline) const {
    return wait_for(deadline - Clock::now());
  }
  /// Waits, then returns the value (the same object for every caller) or rethrows.
  // add_lvalue_reference_t: `const T&` would be formed, and ill-formed, for T = void too.
  std::conditional_t<std::is_void_v<T>, void, std::add_lvalue_reference_t<const T>> get() const {
    wait();
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<T>) return *state_->value;
  }

 private:
  friend class future<T>;
  friend struct detail::future_access;
  explicit shared_future(std::shared_ptr<detail::future_state<T>> s) noexcept
      : state_(std::move(s)) {}
  detail::future_state<T>& checked(const char* who) const {
    if (state_ == nullptr) MAGPIE_THROW(std::logic_error(std::string(who) + ": no result here"));
    return *state_;
  }
  std::shared_ptr<detail::future_state<T>> state_;
};

/// The producing end of a future that no task computes: set_value or set_exception once, from
/// any thread. Waiting on its future helps on the workers of the runtime it was made for, which
/// must outlive the set_ call. Destroyed unsatisfied, it completes the future with
/// std::future_error(broken_promise). Move-only.
template <class T>
class promise {
 public:
  /// Defined in runtime.hpp (it needs the runtime).
  explicit promise(runtime& rt);
  promise(promise&&) noexcept = default;
  promise& operator=(promise&&) = delete;
  promise(const promise&) = delete;
  promise& operator=(const promise&) = delete;
  ~promise() {
    if (state_ != nullptr && !satisfied_) {
      state_->error = std::make_exception_ptr(std::future_error(std::future_errc::broken_promise));
      detail::complete_future_state(*state_);
    }
  }

  /// The future of this promise, once. Throws std::logic_error on a second call.
  future<T> get_future() {
    if (state_ == nullptr || retrieved_)
      MAGPIE_THROW(
          std::logic_error("magpie::promise::get_future: already retrieved (or moved from)"));
    retrieved_ = true;
    return future<T>(state_);
  }
  /// Stores the value and wakes the future's waiters. Throws std::logic_error if already set.
  template <class... A>
  void set_value(A&&... a) {
    check("magpie::promise::set_value");
    if constexpr (std::is_void_v<T>) {
      static_assert(sizeof...(A) == 0, "magpie::promise<void>::set_value takes no argument");
      state_->value.emplace();
    } else {
      state_->value.emplace(std::forward<A>(a)...);
    }
    finish();
  }
  /// Stores an exception for the future's get() to rethrow. Throws std::logic_error if already
  /// set.
  void set_exception(std::exception_ptr e) {
    check("magpie::promise::set_exception");
    state_->error = std::move(e);
    finish();
  }

 private:
  void check(const char* who) const {
    if (state_ == nullptr || satisfied_)
      MAGPIE_THROW(std::logic_error(std::string(who) + ": already satisfied (or moved from)"));
  }
  void finish() noexcept {
    satisfied_ = true;
    detail::complete_future_state(*state_);
  }
  std::shared_ptr<detail::future_state<T>> state_;
  bool retrieved_ = false;
  bool satisfied_ = false;
};

/// What when_any's future holds: which input was ready first, and all of them.
template <class... T>
struct when_any_result {
  std::size_t index;
  std::tuple<future<T>...> futures;
};

namespace detail {

/// when_all / when_any over futures: a hook per input; `Any` completes at the first, else at
/// the last. Kept alive by the hooks that have not fired (each holds a reference).
template <bool Any, class... T>
struct future_combinator : std::enable_shared_from_this<future_combinator<Any, T...>> {
  using result = std::conditional_t<Any, when_any_result<T...>, std::tuple<future<T>...>>;
  struct hook : ready_hook {
    hook() : ready_hook{&run} {}
    static void run(ready_hook* self) noexcept {
      hook* h = static_cast<hook*>(self);
      std::shared_ptr<future_combinator> owner = std::move(h->keep);
      owner->arrived(h->index);
    }
    std::size_t index = 0;
    std::shared_ptr<future_combinator> keep;
  };

  explicit future_combinator(std::tuple<future<T>...>&& in, runtime_core& core)
      : inputs(std::move(in)), out(make_future_state<result>(core)) {}

  void arrived(std::size_t i) noexcept {
    if constexpr (Any) {
      // acq_rel: one winner; it reads the inputs' futures, which nothing else moves.
      if (won.exchange(true, std::memory_order_acq_rel)) return;
      out->value.emplace(result{i, std::move(inputs)});
    } else {
      // acq_rel: the last arrival sees every input's completion before it hands them over.
      if (left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      out->value.emplace(std::move(inputs));
    }
    complete_future_state(*out);
  }

  std::tuple<future<T>...> inputs;
  std::shared_ptr<future_state<result>> out;
  std::array<hook, sizeof...(T)> hooks;
  std::atomic<std::size_t> left{sizeof...(T)};
  std::atomic<bool> won{false};
};

template <bool Any, class... T>
future<typename future_combinator<Any, T...>::result> combine(const char* who, future<T>&&... fs) {
  static_assert(sizeof...(T) > 0, "magpie::when_all / when_any: no futures");
  const std::array<bool, sizeof...(T)> valid{fs.valid()...};
  for (bool v : valid)
    if (!v) MAGPIE_THROW(std::logic_error(std::string(who) + ": a future is not valid()"));
  // The states, held here so that registering cannot outlive them even once the result (and
  // with it the futures) has been handed over by an early arrival.
  std::tuple<std::shared_ptr<future_state<T>>...> states{future_access::shared(fs)...};
  bool hooked = false;
  std::apply([&](auto&... s) { ((hooked = hooked || s->has_hook()), ...); }, states);
  if (hooked)
    MAGPIE_THROW(std::logic_error(std::string(who) + ": a future already has a callback"));
  runtime_core& core = *std::get<0>(states)->group.core;
  auto c = std::make_shared<future_combinator<Any, T...>>(
      std::tuple<future<T>...>(std::move(fs)...), core);
  auto out = c->out;
  std::apply(
      [&c](auto&... s) {
        std::size_t i = 0;
        ((c->hooks[i].index = i, c->hooks[i].keep = c,
          s->set_hook(c->hooks[i]) ? void() : future_combinator<Any, T...>::hook::run(&c->hooks[i]),
          ++i),
         ...);
      },
      states);
  return future_access::make(std::move(out));
}

}  // namespace detail

/// A future of all the given futures, ready once every one of them is (each then holds its
/// value or exception). Consumes them. Throws std::logic_error if one is not valid() or has a
/// callback.
template <class... T>
future<std::tuple<future<T>...>> when_all(future<T>&&... fs) {
  return detail::combine<false>("magpie::when_all", std::move(fs)...);
}
/// A future ready as soon as one of the given futures is: which one, and all of them. The
/// others may still be pending; until each is ready it keeps when_any's callback, so it can be
/// waited for and read but not given to then, on_ready, co_await, when_all or when_any.
/// Consumes them. Throws as when_all.
template <class... T>
future<when_any_result<T...>> when_any(future<T>&&... fs) {
  return detail::combine<true>("magpie::when_any", std::move(fs)...);
}

}  // namespace magpie

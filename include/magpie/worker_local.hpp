// magpie::worker_local<T>: one T per worker of a runtime, constructed on first use, for
// accumulating without sharing (per-worker partial sums, scratch buffers), combined afterwards.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "magpie/detail/cache_line.hpp"
#include "magpie/runtime.hpp"

namespace magpie {

/// Each worker of `rt` gets its own T, built on its first local() by the factory (default: T()).
/// Threads that are not workers of `rt` — outside threads, and workers of other runtimes — each
/// get a T of their own too, found under a mutex: a single shared outside slot would hand the
/// same T& to several threads at once, and local() cannot lock on the caller's behalf once it
/// has returned a reference. Worker slots sit on cache lines of their own.
///
/// Must not outlive `rt`. The factory runs concurrently on several workers and must be
/// thread-safe.
template <class T>
class worker_local {
 public:
  /// Default-constructs each value on first use.
  explicit worker_local(runtime& rt) requires std::is_default_constructible_v<T>
      : worker_local(rt, [] { return T(); }) {}

  /// Builds each value with factory() on first use. Allocates one slot per worker.
  template <class Factory>
  requires std::is_invocable_r_v<T, Factory&> worker_local(runtime& rt, Factory factory)
      : rt_(&rt),
        factory_(std::move(factory)),
        workers_(std::make_unique<slot[]>(rt.worker_count())),
        count_(rt.worker_count()) {}

  worker_local(const worker_local&) = delete;
  worker_local& operator=(const worker_local&) = delete;

  /// The calling thread's value, built on first use. Lock-free on a worker of the runtime (the
  /// slot is that worker's alone); elsewhere it locks a mutex to find the thread's slot and may
  /// allocate. Throws what the factory throws (the slot then stays empty and is retried).
  T& local() {
    if (rt_->is_current_worker()) {
      std::optional<T>& v = workers_[static_cast<std::size_t>(current_worker())].value;
      if (!v) emplace(v);
      return *v;
    }
    std::lock_guard lock(outside_mu_);
    const std::thread::id me = std::this_thread::get_id();
    for (const auto& s : outside_) {
      if (s->owner == me) return *s->value;
    }
    // The value is built before the slot is listed, so a throwing factory leaves no empty slot.
    auto s = std::make_unique<outside_slot>(me);
    emplace(s->value);
    outside_.push_back(std::move(s));
    return *outside_.back()->value;
  }

  /// Calls fn(T&) for every value built so far: workers' in worker order, then outside threads'
  /// in order of first use. Not thread-safe against local(): call it after the work is done
  /// (a task_group::wait or future::get orders the tasks' writes before it).
  template <class Fn>
  void for_each(Fn&& fn) {
    for (std::size_t i = 0; i < count_; ++i) {
      if (workers_[i].value) fn(*workers_[i].value);
    }
    std::lock_guard lock(outside_mu_);
    for (const auto& s : outside_)
      fn(*s->value);
  }

 private:
  struct alignas(detail::cache_line) slot {
    std::optional<T> value;
  };
  struct outside_slot {
    explicit outside_slot(std::thread::id id) : owner(id) {}
    std::thread::id owner;
    std::optional<T> value;
  };
  // Converts to T by calling the factory, so that emplace builds the value in place from the
  // factory's prvalue: T needs no copy or move constructor.
  struct built {
    std::function<T()>& make;
    operator T() const { return make(); }
  };

  void emplace(std::optional<T>& v) { v.emplace(built{factory_}); }

  runtime* rt_;
  std::function<T()> factory_;
  std::unique_ptr<slot[]> workers_;
  std::size_t count_;
  std::mutex outside_mu_;
  std::vector<std::unique_ptr<outside_slot>> outside_;  // guarded by outside_mu_
};

}  // namespace magpie

// A task: a type-erased callable in a fixed 64-byte block with inline storage, run or destroyed
// exactly once through one function pointer. Blocks are recycled per worker (see task_pool).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "magpie/export.hpp"

namespace magpie::detail {

struct group_state;
struct task;

/// run == true: invoke the callable, then destroy it (also when it throws);
/// run == false: destroy it without invoking (cancellation, shutdown).
using task_thunk = void (*)(task*, bool run);

inline constexpr std::size_t task_inline_bytes = 48;

struct alignas(64) task {
  task_thunk thunk;
  group_state* group;  // null for detached tasks
  alignas(16) unsigned char storage[task_inline_bytes];
};
static_assert(sizeof(task) == 64);

/// Block allocation: from the calling worker's free list, else the heap. Thread-safe.
MAGPIE_API task* allocate_task();
/// Returns a block (whose callable is already destroyed) to the calling worker's free list.
MAGPIE_API void free_task(task* t) noexcept;

template <class D>
void thunk_inline(task* t, bool run) {
  D* f = std::launder(reinterpret_cast<D*>(t->storage));
  struct destroy {
    D* f;
    ~destroy() { f->~D(); }
  } guard{f};
  if (run) std::invoke(*f);
}

template <class D>
void thunk_heap(task* t, bool run) {
  std::unique_ptr<D> f(*std::launder(reinterpret_cast<D**>(t->storage)));
  if (run) std::invoke(*f);
}

template <class F>
constexpr bool fits_inline = sizeof(F) <= task_inline_bytes &&
                             alignof(F) <= 16 && std::is_nothrow_move_constructible_v<F>;

/// Throws std::invalid_argument if `f` is an empty function pointer or std::function.
template <class F>
void require_callable(const F& f, const char* where) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "a task must be callable with no arguments");
  if constexpr (std::is_constructible_v<bool, const F&>) {
    if (!static_cast<bool>(f)) throw std::invalid_argument(std::string(where) + ": empty callable");
  }
}

/// Builds a task holding a decayed copy of f. Allocates a block; the callable goes inline when
/// it fits in 48 bytes, else on the heap. Throws what allocation or F's constructor throws.
template <class F>
task* make_task(F&& f, group_state* group) {
  using D = std::decay_t<F>;
  task* t = allocate_task();
  try {
    if constexpr (fits_inline<D>) {
      ::new (static_cast<void*>(t->storage)) D(std::forward<F>(f));
      t->thunk = &thunk_inline<D>;
    } else {
      auto heap = std::make_unique<D>(std::forward<F>(f));
      ::new (static_cast<void*>(t->storage)) D*(heap.release());
      t->thunk = &thunk_heap<D>;
    }
  } catch (...) {
    free_task(t);
    throw;
  }
  t->group = group;
  return t;
}

}  // namespace magpie::detail

// A task: a type-erased callable in a fixed 64-byte block with inline storage, run or destroyed
// exactly once through a table of two functions (run; destroy or relocate), so that running it
// is one indirect call with nothing to decide. Worker-made tasks live in blocks recycled per
// worker (task_pool); tasks from outside threads travel by value through the injector, so an
// external submit allocates nothing for a small callable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "magpie/errors.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

struct group_state;
struct task;

enum class task_op : unsigned char {
  destroy,   ///< destroy it without invoking (cancellation, shutdown)
  relocate,  ///< move it into `dst` (an empty task) and destroy the source
};
/// What a task's callable type can do: one static table per type.
struct task_ops {
  void (*run)(task* self);  ///< invoke the callable, then destroy it (also when it throws)
  void (*manage)(task* self, task_op op, task* dst);
};

inline constexpr std::size_t task_inline_bytes = 48;

// 16-byte aligned, not 64: blocks come from plain operator new when a pool is empty, whose
// small-size fast path an over-aligned new would bypass.
struct alignas(16) task {
  const task_ops* ops = nullptr;  // null: empty (never built, already run, or moved away)
  // A group task: its group_state's address (low bit 0). A detached task: its submit time stamp,
  // lane and a low 1 bit (set when it is handed over), so that the stamp costs no extra space;
  // a stamp of 0 is an untimed one (a coroutine's resumption), so that every task a worker runs
  // has bit 0 set or a group, and dispatch tells the plain case by one bit and the group.
  std::uint64_t origin = 0;
  alignas(16) unsigned char storage[task_inline_bytes];

  group_state* group() const noexcept {
    return (origin & 1) != 0 ? nullptr : reinterpret_cast<group_state*>(origin & ~std::uint64_t{7});
  }
  void set_group(group_state* g) noexcept { origin = reinterpret_cast<std::uint64_t>(g); }
  bool detached() const noexcept { return (origin & 1) != 0; }
  /// A group task counted in its home worker's local count (group_state.hpp): bit 1, set by
  /// build_task.
  bool home_counted() const noexcept { return (origin & 3) == 2; }
  /// Stamps a detached task with its lane and submit time (clock ticks, see clock.hpp).
  void stamp(unsigned lane, std::uint64_t ticks) noexcept { origin = ticks << 3 | lane << 1 | 1; }
  unsigned lane() const noexcept { return static_cast<unsigned>(origin >> 1) & 3; }
  std::uint64_t stamped_at() const noexcept { return origin >> 3; }
  /// A detached task with a real submit time (not an untimed one, stamp 0).
  bool timed() const noexcept { return detached() && stamped_at() != 0; }

  task() noexcept {}
  /// Moving relocates the callable (the injector carries tasks by value).
  task(task&& other) noexcept { other.relocate_to(*this); }
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      discard();
      other.relocate_to(*this);
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { discard(); }

  /// Invokes the callable once and destroys it; the task is empty afterwards even if it threw.
  void run() {
    const task_ops* o = ops;
    ops = nullptr;
    o->run(this);
  }
  /// run() for a task whose block goes back with task_pool::release_empty right after (also
  /// when it threw): `ops` is left as it was, which saves run()'s store, so the block must not
  /// be discarded or destroyed as a task afterwards.
  void run_then_release() { ops->run(this); }
  /// Destroys the callable without invoking it (no-op when empty).
  void discard() noexcept {
    if (ops == nullptr) return;
    const task_ops* o = ops;
    ops = nullptr;
    o->manage(this, task_op::destroy, nullptr);
  }

 private:
  void relocate_to(task& dst) noexcept {
    if (ops == nullptr) return;
    ops->manage(this, task_op::relocate, &dst);
    dst.ops = ops;
    dst.origin = origin;
    ops = nullptr;
  }
};
static_assert(sizeof(task) == 64);

template <class D>
void run_inline(task* t) {
  D* f = std::launder(reinterpret_cast<D*>(t->storage));
  struct destroy {
    D* f;
    ~destroy() { f->~D(); }
  } guard{f};
  std::invoke(*f);
}

template <class D>
void manage_inline(task* t, task_op op, task* dst) noexcept {
  D* f = std::launder(reinterpret_cast<D*>(t->storage));
  if (op == task_op::relocate) {
    ::new (static_cast<void*>(dst->storage)) D(std::move(*f));  // noexcept: fits_inline
  }
  f->~D();
}

template <class D>
void run_heap(task* t) {
  std::unique_ptr<D> f(*std::launder(reinterpret_cast<D**>(t->storage)));
  std::invoke(*f);
}

template <class D>
void manage_heap(task* t, task_op op, task* dst) noexcept {
  D** slot = std::launder(reinterpret_cast<D**>(t->storage));
  if (op == task_op::relocate) {
    ::new (static_cast<void*>(dst->storage)) D*(*slot);
    return;
  }
  delete *slot;
}

template <class D>
inline constexpr task_ops inline_ops{&run_inline<D>, &manage_inline<D>};
template <class D>
inline constexpr task_ops heap_ops{&run_heap<D>, &manage_heap<D>};

template <class F>
constexpr bool fits_inline = sizeof(F) <= task_inline_bytes &&
                             alignof(F) <= 16 && std::is_nothrow_move_constructible_v<F>;

/// Throws std::invalid_argument if `f` is an empty function pointer or std::function.
template <class F>
void require_callable(const F& f, const char* where) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "a task must be callable with no arguments");
  if constexpr (std::is_constructible_v<bool, const F&>) {
    if (!static_cast<bool>(f))
      MAGPIE_THROW(std::invalid_argument(std::string(where) + ": empty callable"));
  }
}

/// Builds, in the empty `t`, a decayed copy of f: inline when it fits in 48 bytes, else on the
/// heap; `home_counted` sets the task's home-counted bit in the same store as its group. Throws
/// what allocation or F's constructor throws, leaving `t` empty.
template <class F>
void build_task(task& t, F&& f, group_state* group, bool home_counted = false) {
  using D = std::decay_t<F>;
  if constexpr (fits_inline<D>) {
    ::new (static_cast<void*>(t.storage)) D(std::forward<F>(f));
    t.ops = &inline_ops<D>;
  } else {
    auto heap = std::make_unique<D>(std::forward<F>(f));
    ::new (static_cast<void*>(t.storage)) D*(heap.release());
    t.ops = &heap_ops<D>;
  }
  t.origin = reinterpret_cast<std::uint64_t>(group) | (home_counted ? 2 : 0);
}

}  // namespace magpie::detail

// Per-worker cache of task blocks, so that spawning on a worker does not call malloc.
// Owner-only; a block freed by the worker that ran it joins that worker's pool. The cache holds
// at most max_cached blocks, except that the blocks of the worker's own tasks come back without
// a look at the cap (their count is bounded by the worker's peak of tasks in flight) until the
// worker next goes idle and trims it.
#pragma once

#include <cstddef>
#include <new>

#include "magpie/detail/task.hpp"

namespace magpie::detail {

class task_pool {
 public:
  static constexpr std::size_t max_cached = 1024;  // 64 KiB per idle worker at most (see above)

  task_pool() = default;
  task_pool(const task_pool&) = delete;
  task_pool& operator=(const task_pool&) = delete;
  ~task_pool() {
    while (head_ != nullptr)
      ::operator delete(take());
  }

  /// An empty task in a cached or new block (heap allocation may throw).
  task* allocate() { return ::new (head_ != nullptr ? take() : new_block()) task(); }
  /// Keeps at least n blocks cached, so the next n allocations cannot throw.
  void reserve(std::size_t n) {
    while (count_ < n)
      keep(new_block());
  }
  /// Destroys `t` (discarding a callable it still holds) and keeps its block.
  void release(task* t) noexcept {
    t->~task();
    keep(t);
  }

  /// Keeps the block of a task known to be empty (it ran): no destructor call to make.
  void release_empty(task* t) noexcept { keep(t); }
  /// release_empty for a block this pool allocated: kept even above the cap (see above), which
  /// saves the test on the hot path of a worker running its own tasks.
  void release_own_empty(task* t) noexcept {
    head_ = ::new (static_cast<void*>(t)) free_block{head_};
    ++count_;
  }
  /// Frees the blocks above the cap (release_own_empty may have kept them). Cold: a worker calls
  /// it as it goes idle.
  void trim() noexcept {
    while (count_ > max_cached)
      ::operator delete(take());
  }

  /// For a thread that is not a worker (no pool): destroys `t` and frees its block.
  static void release_unpooled(task* t) noexcept {
    t->~task();
    ::operator delete(t);
  }

 private:
  struct free_block {
    free_block* next;
  };
  static_assert(alignof(task) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  static void* new_block() { return ::operator new(sizeof(task)); }

  void keep(void* block) noexcept {
    if (count_ == max_cached) {
      ::operator delete(block);
      return;
    }
    head_ = ::new (block) free_block{head_};
    ++count_;
  }
  void* take() noexcept {
    free_block* b = head_;
    head_ = b->next;
    --count_;
    return b;
  }

  free_block* head_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace magpie::detail

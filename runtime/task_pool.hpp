// Per-worker cache of task blocks, so that spawning on a worker does not call malloc.
// Owner-only; a block freed by the worker that ran it joins that worker's pool.
#pragma once

#include <cstddef>
#include <new>

#include "magpie/detail/task.hpp"

namespace magpie::detail {

inline task* new_task_block() {
  return static_cast<task*>(::operator new (sizeof(task), std::align_val_t{alignof(task)}));
}
inline void delete_task_block(task* t) noexcept {
  ::operator delete (t, std::align_val_t{alignof(task)});
}

class task_pool {
 public:
  static constexpr std::size_t max_cached = 1024;  // 64 KiB per worker at most

  task_pool() = default;
  task_pool(const task_pool&) = delete;
  task_pool& operator=(const task_pool&) = delete;
  ~task_pool() {
    while (head_ != nullptr)
      delete_task_block(take());
  }

  task* allocate() { return head_ != nullptr ? take() : new_task_block(); }
  void release(task* t) noexcept {
    if (count_ == max_cached) {
      delete_task_block(t);
      return;
    }
    *reinterpret_cast<task**>(t->storage) = head_;  // the block is dead: reuse it as a link
    head_ = t;
    ++count_;
  }

 private:
  task* take() noexcept {
    task* t = head_;
    head_ = *reinterpret_cast<task**>(t->storage);
    --count_;
    return t;
  }
  task* head_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace magpie::detail

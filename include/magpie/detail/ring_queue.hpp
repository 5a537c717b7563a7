// A FIFO on a power-of-two ring that doubles when full: no allocation per element once it has
// grown (std::deque allocates a block every few elements, here on one thread and frees it on
// another). Not thread-safe; the semaphore guards it with its mutex.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace magpie::detail {

template <class T>
class ring_queue {
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>);

 public:
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  T& front() noexcept { return slots_[head_]; }
  /// Throws std::bad_alloc when it must grow; then nothing changed.
  void push_back(T&& v) {
    if (size_ == capacity_) grow();
    slots_[(head_ + size_) & (capacity_ - 1)] = std::move(v);
    ++size_;
  }
  /// Moves the front element out.
  T pop_front() noexcept {
    T v = std::move(slots_[head_]);
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    return v;
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < size_; ++i)
      f(slots_[(head_ + i) & (capacity_ - 1)]);
  }

 private:
  void grow() {
    const std::size_t cap = capacity_ == 0 ? 16 : capacity_ * 2;
    auto bigger = std::make_unique<T[]>(cap);
    for (std::size_t i = 0; i < size_; ++i)
      bigger[i] = std::move(slots_[(head_ + i) & (capacity_ - 1)]);
    slots_ = std::move(bigger);
    capacity_ = cap;
    head_ = 0;
  }

  std::unique_ptr<T[]> slots_;
  std::size_t capacity_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace magpie::detail

// The semaphores and strands of one runtime, for stats(): an intrusive list under a mutex, taken
// when one is made or destroyed and by stats(), never per task.
#pragma once

#include <cstdint>
#include <mutex>

#include "magpie/detail/held_source.hpp"

namespace magpie::detail {

class held_registry {
 public:
  void add(held_source& s) noexcept {
    std::lock_guard lock(mu_);
    s.listed_prev = nullptr;
    s.listed_next = head_;
    if (head_ != nullptr) head_->listed_prev = &s;
    head_ = &s;
  }
  void remove(held_source& s) noexcept {
    std::lock_guard lock(mu_);
    (s.listed_prev != nullptr ? s.listed_prev->listed_next : head_) = s.listed_next;
    if (s.listed_next != nullptr) s.listed_next->listed_prev = s.listed_prev;
    s.listed_prev = s.listed_next = nullptr;
  }
  /// What every registered source of kind `k` holds now.
  std::uint64_t sum(held_source::kind k) const noexcept {
    std::lock_guard lock(mu_);
    std::uint64_t n = 0;
    for (const held_source* s = head_; s != nullptr; s = s->listed_next) {
      if (s->what == k) n += s->held();
    }
    return n;
  }

 private:
  mutable std::mutex mu_;
  held_source* head_ = nullptr;  // guarded by mu_
};

}  // namespace magpie::detail

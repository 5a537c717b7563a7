// The stop sources behind task_group::stop_token, listed per runtime so that a cancel can reach
// the tokens of its descendants: a group knows its parent, never its children.
#pragma once

#include <mutex>
#include <stop_token>

#include "magpie/detail/group_state.hpp"

namespace magpie::detail {

/// One group's source, listed in its runtime's registry for as long as the group lives.
struct group_stop {
  explicit group_stop(const group_state& g) noexcept : group(&g) {}
  const group_state* group;
  std::stop_source source;
  group_stop* prev = nullptr;
  group_stop* next = nullptr;
};

/// Every listed source of one runtime. Touched only by stop_token(), a cancel of a tree that has
/// tokens, and the destruction of a group that has one: never by spawn or finish.
class stop_registry {
 public:
  std::mutex mu;  // guards the list and every listed group_stop's source
  void link(group_stop& s) noexcept {
    s.next = head_;
    if (head_ != nullptr) head_->prev = &s;
    head_ = &s;
  }
  void unlink(group_stop& s) noexcept {
    (s.prev != nullptr ? s.prev->next : head_) = s.next;
    if (s.next != nullptr) s.next->prev = s.prev;
  }
  group_stop* head() const noexcept { return head_; }

 private:
  group_stop* head_ = nullptr;
};

}  // namespace magpie::detail

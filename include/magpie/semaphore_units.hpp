// magpie::semaphore_units: units of a magpie::semaphore held by a coroutine, as co_await
// sem.acquire(w) returns them; given back when the object is destroyed or released.
#pragma once

#include <cstddef>
#include <utility>

#include "magpie/detail/semaphore_state.hpp"

namespace magpie {
namespace detail {
class sem_acquire_awaiter;
}

/// Move-only owner of units taken by `co_await sem.acquire(w)`. The destructor gives them back
/// (also while an exception unwinds the coroutine), starting waiters that now fit. Must not
/// outlive its semaphore (whose destructor waits for it). An empty one (default-constructed,
/// moved from or released) holds nothing.
class semaphore_units {
 public:
  semaphore_units() noexcept = default;
  semaphore_units(semaphore_units&& o) noexcept = default;
  semaphore_units& operator=(semaphore_units&& o) noexcept {
    if (this != &o) {
      release();
      o.ticket_.move_to(ticket_);
    }
    return *this;
  }
  ~semaphore_units() = default;  // the ticket gives the units back

  /// Gives the units back now. A no-op on an empty object.
  void release() noexcept {
    detail::sem_ticket gone(std::move(ticket_));  // its destructor gives them back
  }
  /// Units held (0 when empty).
  std::size_t weight() const noexcept { return ticket_.weight(); }
  explicit operator bool() const noexcept { return ticket_.armed(); }

 private:
  friend class detail::sem_acquire_awaiter;
  explicit semaphore_units(detail::sem_ticket& t) noexcept { t.move_to(ticket_); }

  detail::sem_ticket ticket_;
};

}  // namespace magpie

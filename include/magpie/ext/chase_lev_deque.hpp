// Chase-Lev work-stealing deque: one owner pushes and pops at the bottom, any number of thieves
// steal from the top.
//
// Algorithm: D. Chase and Y. Lev, "Dynamic circular work-stealing deque", SPAA 2005.
// Orderings:  N. M. Le, A. Pop, A. Cohen, F. Zappa Nardelli, "Correct and efficient
//             work-stealing for weak memory models", PPoPP 2013 (the C11 version, figure 1).
// Deviations from the paper:
//  * slots are std::atomic<T> (relaxed) so that the racy read of a slot a thief may lose is not
//    a data race in the C++ model and ThreadSanitizer sees none;
//  * rings replaced by growth are retired, not freed, until the deque dies: a thief that loaded
//    the old ring pointer may still read from it (no epoch or hazard pointers needed);
//  * pop() has an empty fast path (crossbeam-deque) that skips the seq_cst fence when the deque
//    is visibly empty to the owner;
//  * the two seq_cst fences are detail::full_fence() (a locked RMW on x86, see fence.hpp), and
//    under MAGPIE_TSAN seq_cst operations on the neighbouring accesses, because ThreadSanitizer
//    does not model stand-alone fences;
//  * the owner keeps its last view of top (top only grows) as the bottom a push may reach
//    without growing, and its own copy of the live ring's slots and mask, so a push or pop
//    follows no ring pointer and reads the thieves' line only when the ring looks full; and
//    reserve() grows the ring before the caller builds the item, so an allocation failure
//    leaves nothing half-pushed.
//
// Roles live in the type system (crossbeam's Worker/Stealer): only a deque_owner (or the
// owned_deque that holds its deque) can push or pop, a deque_thief can only steal, and steal()
// reports "lost a race" (retry) apart from "empty".
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/fence.hpp"  // MAGPIE_TSAN
#include "magpie/errors.hpp"

namespace magpie::ext {

enum class steal_status : unsigned char { empty, success, retry };

template <class T>
struct steal_result {
  steal_status status;
  T value;  // meaningful only when status == success
};

template <class T>
class deque_owner;
template <class T>
class deque_thief;
template <class T>
class owned_deque;

/// Shared state of one deque. Create it, then construct exactly one deque_owner on it (a second
/// throws std::logic_error) and any number of deque_thief handles.
/// T must be trivially copyable and lock-free as an atomic (pointers, small integers).
template <class T>
class chase_lev_deque {
  static_assert(std::is_trivially_copyable_v<T>, "chase_lev_deque holds trivially copyable T");
  static_assert(std::atomic<T>::is_always_lock_free, "chase_lev_deque needs lock-free atomic<T>");

 public:
  /// `capacity` is rounded up to a power of two (at least 2). May allocate; not thread-safe.
  explicit chase_lev_deque(std::size_t capacity = 256) {
    std::size_t cap = 2;
    while (cap < capacity)
      cap *= 2;
    rings_.push_back(std::make_unique<ring>(static_cast<std::int64_t>(cap)));
    ring_.store(rings_.back().get(), std::memory_order_relaxed);
    own(*rings_.back());
  }
  chase_lev_deque(const chase_lev_deque&) = delete;
  chase_lev_deque& operator=(const chase_lev_deque&) = delete;

  /// Approximate number of items; exact only when quiescent. Thread-safe, never blocks.
  std::size_t size_approx() const noexcept {
    // relaxed: a snapshot that callers use as a hint only (parking re-checks use a fence).
    const auto b = bottom_.load(std::memory_order_relaxed);
    const auto t = top_.load(std::memory_order_relaxed);
    return b > t ? static_cast<std::size_t>(b - t) : 0;
  }
  bool empty_approx() const noexcept { return size_approx() == 0; }
  /// Current ring capacity (owner's view). For tests of growth.
  std::size_t capacity() const noexcept {
    return static_cast<std::size_t>(ring_.load(std::memory_order_relaxed)->capacity);
  }

 private:
  friend class deque_owner<T>;
  friend class deque_thief<T>;
  friend class owned_deque<T>;

  struct ring {
    explicit ring(std::int64_t cap)
        : capacity(cap), mask(cap - 1), slots(new std::atomic<T>[cap]) {}
    T load(std::int64_t i) const noexcept {
      // relaxed: publication of the slot is ordered by the release fence/store in push and the
      // acquire loads of bottom/ring in steal; a thief's stale read is rejected by its CAS on top.
      return slots[i & mask].load(std::memory_order_relaxed);
    }
    void store(std::int64_t i, T v) noexcept {
      // relaxed: made visible to thieves by the release fence before bottom is published.
      slots[i & mask].store(v, std::memory_order_relaxed);
    }
    const std::int64_t capacity;
    const std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  // Owner-only: grows the ring, keeping the old one alive for thieves still reading it. Out of
  // line: inlined, it made every push save and restore registers it rarely needs.
  [[gnu::noinline, gnu::cold]] ring* grow(ring* old, std::int64_t t, std::int64_t b) {
    auto bigger = std::make_unique<ring>(old->capacity * 2);
    for (std::int64_t i = t; i < b; ++i)
      bigger->store(i, old->load(i));
    ring* r = bigger.get();
    rings_.push_back(std::move(bigger));
    // release: a thief that acquires the new ring pointer sees the copied slots.
    ring_.store(r, std::memory_order_release);
    own(*r);
    return r;
  }

  // Owner-only: the owner's copies of the live ring (see own_slots_).
  void own(const ring& r) noexcept {
    own_slots_ = r.slots.get();
    own_mask_ = r.mask;
    room_end_ = top_seen_ + r.capacity;
  }
  void own_store(std::int64_t i, T v) noexcept {
    // relaxed: as ring::store (the same slot, reached through the owner's copy).
    own_slots_[i & own_mask_].store(v, std::memory_order_relaxed);
  }
  T own_load(std::int64_t i) const noexcept {
    // relaxed: as ring::load.
    return own_slots_[i & own_mask_].load(std::memory_order_relaxed);
  }

  // Owner-only: true if one more push at bottom b fits without growing. A stale top_seen_
  // over-counts the items (top only grows), so the answer errs towards reloading top.
  bool has_room(std::int64_t b) noexcept {
    if (b < room_end_) return true;
    // acquire: pairs with the thieves' CAS on top, so slots they vacated may be overwritten.
    top_seen_ = top_.load(std::memory_order_acquire);
    room_end_ = top_seen_ + (own_mask_ + 1);
    return b < room_end_;
  }
  // Owner-only, cold: reloads top, and grows the ring if that made no room.
  [[gnu::noinline, gnu::cold]] void make_room(std::int64_t b) {
    // relaxed: only the owner writes ring_.
    if (!has_room(b)) grow(ring_.load(std::memory_order_relaxed), top_seen_, b);
  }

  // Owner-only: makes room for one more push (may throw std::bad_alloc, leaving the deque as
  // it was).
  void reserve() {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);  // relaxed: owner-only
    if (b >= room_end_) [[unlikely]]
      make_room(b);
  }

  // Owner-only: makes room, then pushes make()'s item; bottom is read once, before make() runs
  // (only the owner writes it). If make() throws, nothing is pushed.
  template <class Make>
  void push_made(Make&& make) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);  // relaxed: owner-only
    if (b >= room_end_) [[unlikely]]
      make_room(b);
    own_store(b, make());
#if defined(MAGPIE_TSAN)
    bottom_.store(b + 1, std::memory_order_seq_cst);
#else
    // release fence: as in push, the slot write happens-before a thief that reads bottom b+1.
    std::atomic_thread_fence(std::memory_order_release);
    bottom_.store(b + 1, std::memory_order_relaxed);  // relaxed: ordered by the fence above
#endif
  }

  void push(T v, bool reserved = false) {
    // relaxed: only the owner writes bottom.
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    if (!reserved && b >= room_end_) [[unlikely]]
      make_room(b);
    own_store(b, v);
#if defined(MAGPIE_TSAN)
    bottom_.store(b + 1, std::memory_order_seq_cst);
#else
    // release fence: the slot write above happens-before any thief that reads bottom >= b+1.
    std::atomic_thread_fence(std::memory_order_release);
    // relaxed: ordered after the slot write by the fence above.
    bottom_.store(b + 1, std::memory_order_relaxed);
#endif
  }

  bool pop(T& out) {
    // relaxed: owner-only variable; top relaxed: a hint for the empty fast path only.
    const std::int64_t b0 = bottom_.load(std::memory_order_relaxed);
    if (b0 <= top_.load(std::memory_order_relaxed)) return false;  // visibly empty: no fence
    const std::int64_t b = b0 - 1;
#if defined(MAGPIE_TSAN)
    bottom_.store(b, std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
#else
    bottom_.store(b, std::memory_order_relaxed);  // relaxed: ordered by the fence that follows
    // seq_cst fence: the store of bottom and the load of top are ordered against a thief's
    // load of top / fence / load of bottom, so the two never both take the last item.
    detail::full_fence();
    std::int64_t t = top_.load(std::memory_order_relaxed);  // relaxed: ordered by the fence
#endif
    if (t < b) {  // more than one item: ours without a race
      out = own_load(b);
      return true;
    }
    bool won = false;
    if (t == b) {  // the last item: race the thieves for it on top
      out = own_load(b);
      // seq_cst success: total order with the thieves' CASes; relaxed failure: we only learn
      // that a thief took it and read nothing else.
      won = top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                         std::memory_order_relaxed);
    }
    // relaxed: owner-only; a thief that reads the restored bottom sees top > old bottom anyway.
    bottom_.store(b + 1, std::memory_order_relaxed);
    return won;
  }

  steal_result<T> steal() {
#if defined(MAGPIE_TSAN)
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
#else
    // acquire: pairs with other thieves' and the owner's CAS on top.
    std::int64_t t = top_.load(std::memory_order_acquire);
    // seq_cst fence: pairs with the owner's fence in pop (see there).
    detail::full_fence();
    // acquire: pairs with the owner's release fence in push, so the slot at t is visible.
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
#endif
    if (t >= b) return {steal_status::empty, T{}};
    // acquire: pairs with the release store in grow(), so the copied slots are visible.
    ring* r = ring_.load(std::memory_order_acquire);
    T v = r->load(t);
    // seq_cst success: total order with the owner's last-item CAS; relaxed failure: a lost race
    // means retry elsewhere, and nothing read here is used.
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return {steal_status::retry, T{}};
    }
    return {steal_status::success, v};
  }

  // top: written by thieves (CAS) and by the owner's last-item CAS.
  alignas(detail::cache_line) std::atomic<std::int64_t> top_{0};
  // bottom: written by the owner only, read by thieves.
  alignas(detail::cache_line) std::atomic<std::int64_t> bottom_{0};
  // ring pointer: written by the owner on growth, read by thieves.
  alignas(detail::cache_line) std::atomic<ring*> ring_{nullptr};
  // Owner-only.
  bool has_owner_ = false;                    // set by the one deque_owner, at construction
  std::vector<std::unique_ptr<ring>> rings_;  // the live ring and all retired ones
  std::int64_t top_seen_ = 0;                 // top as last read by the owner (a lower bound)
  // The owner's copies of the live ring's slots and mask, and the bottom a push may reach before
  // it must look at top again (top_seen_ + capacity): pushes and pops read these, not the ring.
  std::atomic<T>* own_slots_ = nullptr;
  std::int64_t own_mask_ = 0;
  std::int64_t room_end_ = 0;
};

/// The owner's handle: push and pop at the bottom. Not thread-safe: one thread at a time. One per
/// deque, and not copyable, so the owner-only operations cannot be reached from two handles.
template <class T>
class deque_owner {
 public:
  /// Throws std::logic_error if `d` already has an owner. Not thread-safe (set-up time).
  explicit deque_owner(chase_lev_deque<T>& d) : d_(&d) {
    if (d.has_owner_)
      MAGPIE_THROW(std::logic_error("magpie::ext::deque_owner: the deque has an owner"));
    d.has_owner_ = true;
  }
  deque_owner(const deque_owner&) = delete;
  deque_owner& operator=(const deque_owner&) = delete;
  /// May allocate (when the ring grows). Never blocks.
  void push(T v) { d_->push(v); }
  /// Grows the ring now if the next push would have to (may throw std::bad_alloc, changing
  /// nothing), so that the push after it cannot throw. Never blocks.
  void reserve() { d_->reserve(); }
  /// Pushes after reserve() made room: never allocates, never throws.
  void push_reserved(T v) noexcept { d_->push(v, true); }
  /// Makes room (may throw std::bad_alloc), then pushes the item that make() returns; if make()
  /// throws, nothing is pushed. Building the item between the two costs no second look at the
  /// deque's state. Never blocks.
  template <class Make>
  void push_made(Make&& make) {
    d_->push_made(std::forward<Make>(make));
  }
  /// Takes the most recently pushed item (LIFO). Never allocates or blocks.
  bool pop(T& out) { return d_->pop(out); }
  bool empty_approx() const noexcept { return d_->empty_approx(); }

 private:
  chase_lev_deque<T>* d_;
};

/// A deque together with its owner's operations, for an owner that holds its deque: the same
/// deque_owner interface without a pointer to follow on every push and pop. Thieves take
/// deque_thief handles on shared(). Not thread-safe, as deque_owner.
template <class T>
class owned_deque {
 public:
  explicit owned_deque(std::size_t capacity = 256) : d_(capacity) { d_.has_owner_ = true; }
  owned_deque(const owned_deque&) = delete;
  owned_deque& operator=(const owned_deque&) = delete;

  void push(T v) { d_.push(v); }
  void reserve() { d_.reserve(); }
  void push_reserved(T v) noexcept { d_.push(v, true); }
  template <class Make>
  void push_made(Make&& make) {
    d_.push_made(std::forward<Make>(make));
  }
  bool pop(T& out) { return d_.pop(out); }
  bool empty_approx() const noexcept { return d_.empty_approx(); }
  std::size_t size_approx() const noexcept { return d_.size_approx(); }
  /// The deque, for deque_thief handles (its owner is this object: a deque_owner on it throws).
  chase_lev_deque<T>& shared() noexcept { return d_; }

 private:
  chase_lev_deque<T> d_;
};

/// A thief's handle: steal from the top (FIFO). Thread-safe, never allocates or blocks.
template <class T>
class deque_thief {
 public:
  explicit deque_thief(chase_lev_deque<T>& d) : d_(&d) {}
  steal_result<T> steal() { return d_->steal(); }
  bool empty_approx() const noexcept { return d_->empty_approx(); }

 private:
  chase_lev_deque<T>* d_;
};

}  // namespace magpie::ext

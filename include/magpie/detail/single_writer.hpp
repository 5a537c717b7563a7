// Counters that only one thread writes and any thread reads (statistics, markers, the home's
// join count): the writer adds with one instruction.
//
// A relaxed load, an add and a relaxed store is what a single-writer counter needs (no lock
// prefix: with one writer no update is lost), but compilers do not fuse atomic accesses, so that
// is three instructions. On x86-64 a plain `add` to memory (not locked) does the same in one: it
// is not atomic against other writers, and there are none; the store it makes is one aligned
// 8-byte write, so readers see the old or the new value, never a torn one; and like every x86
// store it is ordered after the thread's earlier loads and stores, i.e. a release store (Intel
// SDM 8.2.2). ThreadSanitizer does not see inside inline assembly, so its build, and other
// targets, use the load and store.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "magpie/detail/fence.hpp"  // MAGPIE_TSAN

namespace magpie::detail {

/// Adds n to c, which only the calling thread writes; relaxed (readers want a recent value, not
/// an ordering): the compiler may move other memory accesses across it.
template <class T>
inline void single_writer_add(std::atomic<T>& c, std::type_identity_t<T> n) noexcept {
  static_assert(std::is_integral_v<T> && sizeof(T) == 8 && std::atomic<T>::is_always_lock_free);
#if defined(__x86_64__) && !defined(MAGPIE_TSAN)
  static_assert(sizeof(std::atomic<T>) == sizeof(T));
  asm volatile("addq %1, %0" : "+m"(c) : "er"(n) : "cc");
#else
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
#endif
}

/// Adds 1 to c, which only the calling thread writes (see above).
inline void single_writer_add(std::atomic<std::uint64_t>& c) noexcept {
  single_writer_add(c, std::uint64_t{1});
}

/// single_writer_add with release ordering: the compiler keeps earlier memory accesses before
/// it too, so a reader that acquires the new value sees them.
template <class T>
inline void single_writer_add_release(std::atomic<T>& c, std::type_identity_t<T> n) noexcept {
  static_assert(std::is_integral_v<T> && sizeof(T) == 8 && std::atomic<T>::is_always_lock_free);
#if defined(__x86_64__) && !defined(MAGPIE_TSAN)
  asm volatile("addq %1, %0" : "+m"(c) : "er"(n) : "cc", "memory");
#else
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_release);
#endif
}

}  // namespace magpie::detail

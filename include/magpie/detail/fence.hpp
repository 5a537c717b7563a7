// The fences of Magpie's Dekker pairs, in three strengths, and the ThreadSanitizer build's
// replacement for all of them.
//
//  * full_fence(): a StoreLoad barrier. On x86-64 a locked RMW of 0 just below the stack
//    pointer, whatever the compiler: clang lowers atomic_thread_fence(seq_cst) to mfence, which
//    on AMD Zen cores costs several times a locked instruction, while g++ already emits
//    `lock or`. Both are full barriers on x86 (Intel SDM 8.2.2: locked instructions are not
//    reordered with loads or stores). Not on (%rsp) itself: clang keeps a live local there
//    (help_until_done's loop reloads its `done` closure from (%rsp) a few instructions after
//    the pop's fence when the task was a leaf), and that load then waits for the locked write
//    (Shipilev, "On the Fence with Dependencies", 2014); moving it to -64(%rsp) made clang's
//    fib 5 % faster. The word is in the red zone, which only this thread uses, and OR-ing 0
//    leaves whatever a leaf function keeps there unchanged.
//  * light_barrier() / heavy_barrier: an asymmetric pair (Linux membarrier, as in folly's
//    asymmetricLightBarrier): the frequent side (a worker pushing a task) only stops the
//    compiler, the rare side (a worker about to sleep) calls membarrier(PRIVATE_EXPEDITED), which
//    runs a full barrier on every CPU that is running one of the process's threads. So for any
//    thread T, T's stores before its light barrier are visible after the heavy one returns, or
//    T's loads after its light barrier see what the heavy side stored before calling it.
//    Where membarrier is unavailable the runtime reports it and both sides use full_fence()
//    (the light side's caller adds it, see idle_set::push_word).
#pragma once

#include <atomic>

#if !defined(MAGPIE_TSAN)
#if defined(__SANITIZE_THREAD__)
#define MAGPIE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MAGPIE_TSAN 1
#endif
#endif
#endif

namespace magpie::detail {

#if defined(MAGPIE_TSAN)
// ThreadSanitizer does not model stand-alone fences (nor membarrier). Every fence instead does
// a seq_cst RMW on this one word: RMWs on one atomic are totally ordered and each reads the
// previous one (a release sequence), so whichever side of a Dekker pair goes second
// synchronizes with the first and sees its store, which is what the fences guarantee. It
// carries no state between runtimes; it exists only in sanitizer builds, where its contention
// does not matter.
inline std::atomic<unsigned> tsan_fence_word{0};
inline void full_fence() noexcept {
  tsan_fence_word.fetch_add(1, std::memory_order_seq_cst);
}
#else
inline void full_fence() noexcept {
#if defined(__x86_64__)
  asm volatile("lock orl $0, -64(%%rsp)" ::: "memory", "cc");
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}
#endif

/// The frequent side of an asymmetric pair: the compiler keeps the store before it and the load
/// after it in that order. Enough only where the rare side really calls membarrier; where it
/// does not (no kernel support, ThreadSanitizer), the caller must fence before relying on the
/// load (idle_set::push_word sends every pusher to a path that does).
inline void light_barrier() noexcept {
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

/// The fence of a symmetric Dekker pair (both sides rare or both frequent).
inline void dekker_fence() noexcept {
  full_fence();
}

}  // namespace magpie::detail

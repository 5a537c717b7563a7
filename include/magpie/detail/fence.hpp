// The seq_cst fence of a Dekker pair, and the ThreadSanitizer build's replacement for it.
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
// ThreadSanitizer does not model atomic_thread_fence. Both sides of every Dekker pair instead
// do a seq_cst RMW on this one word: RMWs on one atomic are totally ordered and each reads the
// previous one (a release sequence), so whichever side goes second synchronizes with the first
// and sees its store, which is what the fences guarantee. It carries no state between runtimes;
// it exists only in sanitizer builds, where its contention does not matter.
inline std::atomic<unsigned> tsan_fence_word{0};
inline void dekker_fence() noexcept {
  tsan_fence_word.fetch_add(1, std::memory_order_seq_cst);
}
#else
inline void dekker_fence() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}
#endif

}  // namespace magpie::detail

// The pause instruction: tells the core (and a hyperthread sibling) that this thread only waits.
// A header of its own, without the runtime's pause policy (runtime/pause.hpp), so that benchmarks
// that do not link Magpie (perf/, the peers' adapters) spin the same way.
#pragma once

namespace magpie::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace magpie::detail

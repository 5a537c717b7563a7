// A polite spin: tells the core (and a hyperthread sibling) that this thread is only waiting.
#pragma once

namespace perf {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace perf

// Invariant checks for debug builds (Tokio's debug_assert!, libfork's LF_ASSERT): in a build
// without NDEBUG a failed check prints the condition and where, then aborts; with NDEBUG it
// compiles to nothing (not to an assumption: a wrong check must not become undefined behaviour).
#pragma once

#include <cstdio>
#include <cstdlib>

#if defined(NDEBUG)
#define MAGPIE_DEBUG_CHECK(cond) static_cast<void>(sizeof((cond) ? 1 : 0))  // unevaluated
#else
#define MAGPIE_DEBUG_CHECK(cond)                                                             \
  ((cond) ? static_cast<void>(0)                                                             \
          : (std::fprintf(stderr, "magpie: invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
                          __LINE__),                                                         \
             std::abort()))
#endif

// Counters that only one thread writes and any thread reads (statistics, markers).
#pragma once

#include <atomic>
#include <cstdint>

namespace magpie::detail {

/// Adds `n` to `c`, which only the calling thread writes: a relaxed load and store instead of an
/// atomic RMW (no lock prefix on the hot path). With one writer no update is lost; relaxed,
/// because readers want a recent value, not an ordering.
inline void single_writer_add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace magpie::detail

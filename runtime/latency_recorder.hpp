// Submit-to-start latency of one lane on one worker: log-scale buckets (four per power of two)
// written by that worker alone, so recording is a load and a store on lines nobody else writes.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "magpie/detail/single_writer.hpp"

namespace magpie::detail {

class latency_recorder {
 public:
  // Values below 4 have a bucket each; above, 4 buckets per power of two up to 2^48 ticks.
  static constexpr std::size_t bucket_count = 4 * 47 + 4;

  void record(std::uint64_t ticks) noexcept {
    single_writer_add(counts_[bucket_of(ticks)]);
    // relaxed: single writer (see bump); the exact sum makes Prometheus' _sum exact.
    single_writer_add(sum_, ticks);
    // relaxed: single writer; readers want a recent value, not an ordering.
    if (ticks > max_.load(std::memory_order_relaxed)) max_.store(ticks, std::memory_order_relaxed);
  }

  std::uint64_t count(std::size_t bucket) const noexcept {
    return counts_[bucket].load(std::memory_order_relaxed);  // relaxed: a statistic
  }
  std::uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
  std::uint64_t sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

  static std::size_t bucket_of(std::uint64_t v) noexcept {
    if (v < 4) return static_cast<std::size_t>(v);
    const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // v in [2^e, 2^(e+1))
    if (e > 48) return bucket_count - 1;
    return 4 * (e - 1) + static_cast<std::size_t>((v >> (e - 2)) & 3);
  }
  /// Smallest value above bucket `i` (its exclusive upper edge), in ticks.
  static std::uint64_t upper_edge(std::size_t i) noexcept {
    if (i < 4) return i + 1;
    const std::size_t e = i / 4 + 1;
    return (std::uint64_t{5} + i % 4) << (e - 2);
  }

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> counts_{};
  std::atomic<std::uint64_t> max_{0};
  std::atomic<std::uint64_t> sum_{0};
};

}  // namespace magpie::detail

#include "magpie/stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace magpie {

std::uint64_t latency_histogram::percentile_ns(double q) const {
  if (!(q > 0.0 && q <= 1.0)) {
    throw std::invalid_argument(
        "magpie::latency_histogram::percentile_ns: q must be in (0, 1], got " + std::to_string(q));
  }
  if (count == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count)));
  std::uint64_t seen = 0;
  for (const bucket& b : buckets) {
    seen += b.count;
    if (seen >= rank) return std::min(b.upper_ns, max_ns);
  }
  return max_ns;  // counts and max read at slightly different moments
}

}  // namespace magpie

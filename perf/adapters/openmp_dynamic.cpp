// OpenMP loops with schedule(dynamic): what someone who knows a loop is skewed writes. Loops
// only (fork-join is the same as `openmp`). Without a grain the chunk is n / (8 x threads), so
// that a thread that finishes early has pieces left to take.
#include <algorithm>
#include <cstddef>

#include "registry.hpp"

namespace {

struct openmp_dynamic_adapter {
  static constexpr const char* name = "openmp_dynamic";

  explicit openmp_dynamic_adapter(std::size_t workers) : threads(static_cast<int>(workers)) {}

  template <class Body>
  void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
    if (last <= first) return;
    const std::size_t n = last - first;
    const std::size_t piece =
        grain != 0 ? grain : std::max<std::size_t>(1, n / (8 * static_cast<std::size_t>(threads)));
    const std::size_t pieces = (n + piece - 1) / piece;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (std::size_t k = 0; k < pieces; ++k) {
      const std::size_t b = first + k * piece;
      body(b, std::min(last, b + piece));
    }
  }

  int threads;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(openmp_dynamic_adapter)

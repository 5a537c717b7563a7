// OpenMP with GNU libgomp, g++'s own runtime (perf/adapters/openmp.hpp).
#include <cstddef>

#include "adapters/openmp.hpp"
#include "registry.hpp"

namespace {

struct openmp_adapter : perf::openmp_team {
  static constexpr const char* name = "openmp";
  using openmp_team::openmp_team;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(openmp_adapter)

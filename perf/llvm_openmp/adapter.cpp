// OpenMP with LLVM's libomp: the adapter of perf/adapters/openmp.hpp, in the separate
// magpie_bench_llvm_omp binary (perf/CMakeLists.txt says why).
#include <cstddef>

#include "adapters/openmp.hpp"
#include "registry.hpp"

namespace {

struct llvm_openmp_adapter : perf::openmp_team {
  static constexpr const char* name = "llvm_openmp";
  using openmp_team::openmp_team;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(llvm_openmp_adapter)

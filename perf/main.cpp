// Google Benchmark's main, plus the run's settings and peer versions in the JSON context, so a
// results file says what it measured. Workloads are registered by the adapter files
// (perf/registry.hpp) and the serial floors (perf/<workload>/serial.cpp).
#include <benchmark/benchmark.h>

#include <string>

#include <oneapi/tbb/version.h>
#include <boost/version.hpp>

#include "common/config.hpp"
#include "common/failure.hpp"

namespace {

#if defined(__clang__)
constexpr const char* compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* compiler = "g++ " __VERSION__;
#else
constexpr const char* compiler = "unknown";
#endif

#if defined(MAGPIE_BENCH_LLVM_OMP) || defined(__clang__)  // clang's -fopenmp links libomp
constexpr const char* openmp_runtime = "LLVM libomp";
#else
constexpr const char* openmp_runtime = "GNU libgomp";
#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("workers", std::to_string(perf::workers()));
  benchmark::AddCustomContext("full_run", perf::full_run() ? "1" : "0");
  benchmark::AddCustomContext("compiler", compiler);
  benchmark::AddCustomContext("onetbb", TBB_runtime_version());
  benchmark::AddCustomContext("boost", BOOST_LIB_VERSION);
  benchmark::AddCustomContext("openmp",
                              std::string(openmp_runtime) + ", spec " + std::to_string(_OPENMP));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return perf::failures.load(std::memory_order_relaxed) == 0 ? 0 : 1;
}

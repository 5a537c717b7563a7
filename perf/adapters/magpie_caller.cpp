// Magpie sized the way an engine that keeps its own thread busy sizes it: `workers - 1` workers,
// and every loop called from the benchmark's thread with loop_options::caller_joins, so that
// thread runs pieces too (OpenMP's master thread, a oneTBB arena's joining thread). `workers`
// threads in all, as for the peers. Loops only: it answers which sizing to recommend
// (docs/parallel-for.md), so it runs when named with --schedulers.
#include <algorithm>
#include <cstddef>
#include <utility>

#include <magpie/magpie.hpp>

#include "registry.hpp"

namespace {

struct magpie_caller_adapter {
  static constexpr const char* name = "magpie_caller";

  explicit magpie_caller_adapter(std::size_t workers) : rt(config_for(workers)) {}

  static magpie::config config_for(std::size_t workers) {
    magpie::config cfg;
    cfg.workers = std::max<std::size_t>(1, workers - 1);
    return cfg;
  }

  template <class Body>
  void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
    magpie::parallel_for(rt, first, last, options(grain), std::forward<Body>(body));
  }

  template <class T, class Map, class Reduce>
  T parallel_reduce(std::size_t first, std::size_t last, T identity, Map&& map, Reduce&& reduce) {
    return magpie::parallel_reduce(rt, first, last, identity, std::forward<Map>(map),
                                   std::forward<Reduce>(reduce), options(0));
  }

  template <class T, class Body, class Reduce>
  T parallel_reduce_range(std::size_t first, std::size_t last, T identity, Body&& body,
                          Reduce&& reduce) {
    return magpie::parallel_reduce(rt, first, last, identity, std::forward<Body>(body),
                                   std::forward<Reduce>(reduce), options(0));
  }

  static magpie::loop_options options(std::size_t grain) {
    return magpie::loop_options{grain, magpie::partitioner::adaptive, true};
  }

  magpie::runtime rt;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(magpie_caller_adapter)

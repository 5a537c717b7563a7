// Magpie with every loop called from the benchmark's thread with loop_options::caller_joins, so
// that thread runs pieces too (OpenMP's master thread, a oneTBB arena's joining thread), in the
// two sizings an engine could choose: `magpie_caller`, `workers - 1` workers (`workers` threads
// in all, as for the peers), and `magpie_joins`, `workers` workers (one thread more than the
// peers). Loops only: they answer which default to pick (docs/parallel-for.md), so they run
// when named with --schedulers.
#include <algorithm>
#include <cstddef>
#include <utility>

#include <magpie/magpie.hpp>

#include "registry.hpp"

namespace {

template <bool OneLess>
struct basic_joining_adapter {
  static constexpr const char* name = OneLess ? "magpie_caller" : "magpie_joins";

  explicit basic_joining_adapter(std::size_t workers) : rt(config_for(workers)) {}

  static magpie::config config_for(std::size_t workers) {
    magpie::config cfg;
    cfg.workers = OneLess ? std::max<std::size_t>(1, workers - 1) : workers;
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

using magpie_caller_adapter = basic_joining_adapter<true>;
using magpie_joins_adapter = basic_joining_adapter<false>;

}  // namespace

MAGPIE_BENCH_ADAPTER(magpie_caller_adapter)
MAGPIE_BENCH_ADAPTER(magpie_joins_adapter)

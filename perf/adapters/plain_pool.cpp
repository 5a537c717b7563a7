// The plain mutex + condition-variable pool (perf/common/plain_pool.hpp): submit for every
// task, loops as posted pieces the caller waits for on a latch. No fork-join, for the same
// reason as Boost.Asio's pool (perf/adapters/asio.cpp).
#include <cstddef>
#include <utility>

#include "common/plain_pool.hpp"
#include "common/posted_loops.hpp"
#include "registry.hpp"

namespace {

struct plain_pool_adapter {
  static constexpr const char* name = "plain_pool";

  explicit plain_pool_adapter(std::size_t workers) : threads(workers), pool(workers) {}

  template <class F>
  void submit(F&& f) {
    pool.submit(std::forward<F>(f));
  }

  template <class Body>
  void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
    perf::posted_for([this](auto&& t) { this->submit(std::forward<decltype(t)>(t)); }, threads,
                     first, last, grain, body);
  }

  template <class T, class Map, class Reduce>
  T parallel_reduce(std::size_t first, std::size_t last, T identity, Map&& map, Reduce&& reduce) {
    return perf::posted_reduce([this](auto&& t) { this->submit(std::forward<decltype(t)>(t)); },
                               threads, first, last, identity, map, reduce);
  }

  std::size_t threads;
  perf::plain_pool pool;  // destroyed first: runs what is queued and joins
};

}  // namespace

MAGPIE_BENCH_ADAPTER(plain_pool_adapter)

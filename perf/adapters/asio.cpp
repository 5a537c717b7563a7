// Boost.Asio thread_pool: boost::asio::post for every task, and loops as posted pieces that
// the caller waits for on a latch (perf/common/posted_loops.hpp). A pool has no fork-join wait
// that runs other tasks, so fib, skynet and nqueens show n/a (a task blocked in a wait holds
// its thread, and with 2 threads the tree deadlocks).
#include <cstddef>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include "common/posted_loops.hpp"
#include "registry.hpp"

namespace {

struct asio_adapter {
  static constexpr const char* name = "asio";

  explicit asio_adapter(std::size_t workers) : threads(workers), pool(workers) {}

  /// join() without stop(): returns once every posted task has run.
  ~asio_adapter() { pool.join(); }

  asio_adapter(const asio_adapter&) = delete;
  asio_adapter& operator=(const asio_adapter&) = delete;

  template <class F>
  void submit(F&& f) {
    boost::asio::post(pool, std::forward<F>(f));
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

  /// A strand on the pool's executor, posted to as Asio's documentation shows.
  struct strand {
    explicit strand(asio_adapter& a) : s(boost::asio::make_strand(a.pool.get_executor())) {}
    template <class F>
    void post(F&& f) {
      boost::asio::post(s, std::forward<F>(f));
    }
    boost::asio::strand<boost::asio::thread_pool::executor_type> s;
  };

  std::size_t threads;
  boost::asio::thread_pool pool;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(asio_adapter)

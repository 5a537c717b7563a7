// Magpie: submit for external work (priority::high for the urgent lane), task_group for
// fork-join, parallel_for / parallel_reduce with their default adaptive partitioner.
#include <cstddef>
#include <utility>

#include <magpie/magpie.hpp>

#include "registry.hpp"

namespace {

// Victims: near-to-far stealing (the default) or the random order most runtimes use, so the
// two can be compared in one binary (docs/topology.md).
template <magpie::steal_order Victims>
struct basic_magpie_adapter {
  static constexpr const char* name =
      Victims == magpie::steal_order::topology ? "magpie" : "magpie_random_steal";

  explicit basic_magpie_adapter(std::size_t workers) : rt(config_for(workers)) {}

  static magpie::config config_for(std::size_t workers) {
    magpie::config cfg;
    cfg.workers = workers;
    cfg.victims = Victims;
    return cfg;
  }

  template <class F>
  void submit(F&& f) {
    rt.submit(std::forward<F>(f));
  }

  template <class F>
  void submit_high(F&& f) {
    rt.submit(std::forward<F>(f), magpie::priority::high);
  }

  /// The root on a worker: spawned from an outside thread, every spawn below it would go
  /// through the injector instead of a worker's deque.
  template <class F>
  void run(F&& root) {
    magpie::task_group g(rt);
    g.spawn(std::forward<F>(root));
    g.wait();
  }

  template <class F>
  void enter(F&& f) {
    run(std::forward<F>(f));
  }

  class group {
   public:
    explicit group(basic_magpie_adapter& a) : g_(a.rt) {}
    template <class F>
    void spawn(F&& f) {
      g_.spawn(std::forward<F>(f));
    }
    void wait() { g_.wait(); }

   private:
    magpie::task_group g_;
  };

  template <class Body>
  void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
    if (grain == 0) {
      magpie::parallel_for(rt, first, last, std::forward<Body>(body));
    } else {
      magpie::parallel_for(rt, first, last, grain, std::forward<Body>(body));
    }
  }

  template <class T, class Map, class Reduce>
  T parallel_reduce(std::size_t first, std::size_t last, T identity, Map&& map, Reduce&& reduce) {
    return magpie::parallel_reduce(rt, first, last, identity, std::forward<Map>(map),
                                   std::forward<Reduce>(reduce));
  }

  template <class T, class Body, class Reduce>
  T parallel_reduce_range(std::size_t first, std::size_t last, T identity, Body&& body,
                          Reduce&& reduce) {
    return magpie::parallel_reduce(rt, first, last, identity, std::forward<Body>(body),
                                   std::forward<Reduce>(reduce));
  }

  magpie::runtime rt;
};

using magpie_adapter = basic_magpie_adapter<magpie::steal_order::topology>;
using magpie_random_steal = basic_magpie_adapter<magpie::steal_order::random>;

}  // namespace

MAGPIE_BENCH_ADAPTER(magpie_adapter)
MAGPIE_BENCH_ADAPTER(magpie_random_steal)

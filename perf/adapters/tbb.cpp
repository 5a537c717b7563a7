// oneTBB, the idiomatic way for each job: task_arena::enqueue for external work, task_group
// inside task_arena::execute for fork-join, parallel_for / parallel_reduce over a blocked_range
// with the auto_partitioner. The urgent lane is a second arena created with
// task_arena::priority::high, which TBB's workers serve before normal-priority arenas.
#include <cstddef>
#include <optional>
#include <utility>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include "registry.hpp"

namespace {

struct tbb_adapter {
  static constexpr const char* name = "tbb";
  using range = tbb::blocked_range<std::size_t>;

  // TBB's default pool has cores-1 threads: 1 on the 2-core machines, which would leave an
  // enqueue-only arena one worker short of Magpie's. Lifting the limit gives it `workers`.
  explicit tbb_adapter(std::size_t workers)
      : n(workers), limit(tbb::global_control::max_allowed_parallelism, workers + 1) {}

  /// Arenas are made on first use: each benchmark uses one kind, and an arena that was never
  /// used costs nothing. joined: the caller takes part through execute() (caller plus n-1 TBB
  /// threads, as in fork-join); enqueued: work only arrives through enqueue (n TBB threads).
  tbb::task_arena& joined() { return lazy(joined_, 1, tbb::task_arena::priority::normal); }
  tbb::task_arena& enqueued() { return lazy(enqueued_, 0, tbb::task_arena::priority::normal); }
  tbb::task_arena& urgent() { return lazy(urgent_, 0, tbb::task_arena::priority::high); }

  template <class F>
  void submit(F&& f) {
    enqueued().enqueue(std::forward<F>(f));
  }

  template <class F>
  void submit_high(F&& f) {
    urgent().enqueue(std::forward<F>(f));
  }

  template <class F>
  void run(F&& root) {
    joined().execute(std::forward<F>(root));
  }

  template <class F>
  void enter(F&& f) {
    run(std::forward<F>(f));
  }

  class group {
   public:
    explicit group(tbb_adapter&) {}
    template <class F>
    void spawn(F&& f) {
      g_.run(std::forward<F>(f));
    }
    void wait() { g_.wait(); }

   private:
    tbb::task_group g_;
  };

  /// Inside the arena (a no-op when enter() already put the caller there).
  template <class Body>
  void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
    joined().execute([&] {
      tbb::parallel_for(
          range(first, last, grain == 0 ? 1 : grain),
          [&body](const range& r) { body(r.begin(), r.end()); }, tbb::auto_partitioner{});
    });
  }

  template <class T, class Map, class Reduce>
  T parallel_reduce(std::size_t first, std::size_t last, T identity, Map&& map, Reduce&& reduce) {
    T result = identity;
    joined().execute([&] {
      result = tbb::parallel_reduce(
          range(first, last), identity,
          [&map, &reduce](const range& r, T acc) {
            for (std::size_t i = r.begin(); i != r.end(); ++i)
              acc = reduce(acc, map(i));
            return acc;
          },
          reduce, tbb::auto_partitioner{});
    });
    return result;
  }

  /// The functional form with the caller's own loop as the body.
  template <class T, class Body, class Reduce>
  T parallel_reduce_range(std::size_t first, std::size_t last, T identity, Body&& body,
                          Reduce&& reduce) {
    T result = identity;
    joined().execute([&] {
      result = tbb::parallel_reduce(
          range(first, last), identity,
          [&body](const range& r, T acc) { return body(r.begin(), r.end(), acc); }, reduce,
          tbb::auto_partitioner{});
    });
    return result;
  }

 private:
  tbb::task_arena& lazy(std::optional<tbb::task_arena>& a, unsigned reserved,
                        tbb::task_arena::priority p) {
    if (!a) {
      a.emplace(static_cast<int>(n), reserved, p);
      a->initialize();
    }
    return *a;
  }

  std::size_t n;
  tbb::global_control limit;
  std::optional<tbb::task_arena> joined_;
  std::optional<tbb::task_arena> enqueued_;
  std::optional<tbb::task_arena> urgent_;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(tbb_adapter)

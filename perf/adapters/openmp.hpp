// OpenMP, the way its specification teaches each job: fork-join with `task` and `taskwait` under
// `parallel` + `single`; loops with `parallel for`, schedule(static) (one contiguous block per
// thread when no grain is given), and a `reduction` clause for sums. OpenMP has no way for a
// thread outside the team to hand it work, so there is no submit: external submit, wake-up
// latency and the priority flood show n/a.
//
// A header, not an adapter file, because two adapters share it: `openmp` (perf/adapters/
// openmp.cpp, GNU libgomp) and `llvm_openmp` (perf/llvm_openmp/adapter.cpp, the same code linked
// against LLVM's libomp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace perf {

class openmp_team {
 public:
  explicit openmp_team(std::size_t workers) : threads_(static_cast<int>(workers)) {}

  /// A team of `workers` threads; one of them runs root, the others take its tasks.
  template <class F>
  void run(F&& root) {
#pragma omp parallel num_threads(threads_)
#pragma omp single
    root();
  }

  /// taskwait waits for every child task of the current task, not only those spawned through
  /// this group; the workloads open one group per task, so the two are the same here.
  class group {
   public:
    explicit group(openmp_team&) {}
    template <class F>
    void spawn(F&& f) {
      std::decay_t<F> fn(std::forward<F>(f));
#pragma omp task firstprivate(fn)
      fn();
    }
    void wait() {
#pragma omp taskwait
    }
  };

  template <class Body>
  void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
    if (last <= first) return;
    const std::size_t n = last - first;
    const std::size_t t = static_cast<std::size_t>(threads_);
    const std::size_t piece = grain == 0 ? (n + t - 1) / t : grain;
    const std::size_t pieces = (n + piece - 1) / piece;
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (std::size_t k = 0; k < pieces; ++k) {
      const std::size_t b = first + k * piece;
      body(b, std::min(last, b + piece));
    }
  }

  template <class T, class Map, class Reduce>
  T parallel_reduce(std::size_t first, std::size_t last, T identity, Map&& map, Reduce&& reduce) {
    if constexpr (std::is_same_v<std::decay_t<Reduce>, std::plus<>>) {
      T acc = identity;
#pragma omp parallel for reduction(+ : acc) num_threads(threads_)
      for (std::size_t i = first; i < last; ++i)
        acc += map(i);
      return acc;
    } else {
      // No reduction clause for an arbitrary operation: a partial per thread, combined under a
      // critical section (so `reduce` must also be commutative here).
      T result = identity;
#pragma omp parallel num_threads(threads_)
      {
        T local = identity;
#pragma omp for schedule(static) nowait
        for (std::size_t i = first; i < last; ++i)
          local = reduce(local, map(i));
#pragma omp critical
        result = reduce(result, local);
      }
      return result;
    }
  }

  /// One contiguous block per thread (schedule(static) over `threads` pieces), each folded by
  /// body; the partials combined by the reduction clause for sums.
  template <class T, class Body, class Reduce>
  T parallel_reduce_range(std::size_t first, std::size_t last, T identity, Body&& body,
                          Reduce&& reduce) {
    if (last <= first) return identity;
    const std::size_t n = last - first;
    const std::size_t t = static_cast<std::size_t>(threads_);
    if constexpr (std::is_same_v<std::decay_t<Reduce>, std::plus<>>) {
      T acc = identity;
#pragma omp parallel for schedule(static) reduction(+ : acc) num_threads(threads_)
      for (std::size_t k = 0; k < t; ++k)
        acc = body(first + n * k / t, first + n * (k + 1) / t, acc);
      return acc;
    } else {
      T result = identity;
#pragma omp parallel for schedule(static) num_threads(threads_)
      for (std::size_t k = 0; k < t; ++k) {
        const T local = body(first + n * k / t, first + n * (k + 1) / t, identity);
#pragma omp critical
        result = reduce(result, local);
      }
      return result;
    }
  }

 private:
  int threads_;
};

}  // namespace perf

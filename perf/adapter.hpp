// What a scheduler adapter may offer, as concepts. A workload is written once as a template over
// the adapter and is registered for every adapter that has the members it needs; the others show
// "n/a" for it (perf/README.md describes the interface and how to add a scheduler).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

namespace perf {

struct matmul_problem;

namespace detail {
inline void noop() noexcept {}
inline void noop_range(std::size_t, std::size_t) noexcept {}
inline std::size_t identity_of(std::size_t i) noexcept {
  return i;
}
inline std::size_t add(std::size_t a, std::size_t b) noexcept {
  return a + b;
}
inline std::size_t fold_range(std::size_t b, std::size_t e, std::size_t acc) noexcept {
  return acc + (e - b);
}
}  // namespace detail

/// Every adapter: a name (what --schedulers and the tables call it) and a constructor taking the
/// worker count, which starts the scheduler's threads; the destructor runs or drops what is
/// queued and joins them.
template <class A>
concept adapter = requires {
  { A::name } -> std::convertible_to<std::string_view>;
}
&&std::constructible_from<A, std::size_t>;

/// submit(f): runs f() once, fire-and-forget, called from a thread that is not one of the
/// scheduler's (external submit, wake-up latency, idle cost, the priority flood).
template <class A>
concept can_submit = adapter<A> && requires(A& a) {
  a.submit(detail::noop);
};

/// submit_high(f): as submit, but in a lane that runs ahead of work queued with submit.
template <class A>
concept can_submit_high = can_submit<A> && requires(A& a) {
  a.submit_high(detail::noop);
};

/// strand: `typename A::strand s(a); s.post(f);` runs the callables posted to one strand one at
/// a time, in the order posted, called from threads that are not the scheduler's (strand_post).
template <class A>
concept can_strand = adapter<A> && requires(typename A::strand& s) {
  s.post(detail::noop);
} && std::is_constructible_v<typename A::strand, A&>;

/// limiter: `typename A::limiter l(a, capacity); l.submit(weight, f);` runs f once `weight` of
/// the limiter's `capacity` units are free, holding them while it runs (semaphore_flood).
template <class A>
concept can_limit = adapter<A> && requires(typename A::limiter& l) {
  l.submit(std::size_t{}, detail::noop);
} && std::is_constructible_v<typename A::limiter, A&, std::size_t>;

/// run(root) runs root() on the scheduler and returns when it finished; inside it,
/// `typename A::group g(a); g.spawn(f); g.wait();` forks and joins (fib, skynet, nqueens).
template <class A>
concept can_fork_join = adapter<A> && requires(A& a, typename A::group& g) {
  a.run(detail::noop);
  g.spawn(detail::noop);
  g.wait();
} && std::is_constructible_v<typename A::group, A&>;

/// Whole workloads, optional: an adapter may run a workload itself in its scheduler's own idiom
/// (a coroutine runtime cannot express `group g(a); g.spawn(f); g.wait();`, and a runtime's
/// fastest form may differ from the generic one). When present, the workload calls it instead
/// of the generic form and still checks the answer. fib(n): fib(n) with perf::fib_serial's
/// recursion; skynet(leaves): the sum over a perf::skynet_fan_out-way tree of that many
/// leaves; nqueens(n): the solutions on an n x n board, a task per placement in the first
/// perf::nqueens_cutoff rows; matmul(p): perf::matmul_rows over all rows of p, in pieces of
/// at most perf::matmul_tile_rows.
template <class A>
concept has_fib = adapter<A> && requires(A& a) {
  { a.fib(int{}) } -> std::convertible_to<std::uint64_t>;
};

template <class A>
concept has_skynet = adapter<A> && requires(A& a) {
  { a.skynet(std::uint64_t{}) } -> std::convertible_to<std::uint64_t>;
};

/// The same two workloads written as coroutines (a scheduler that has them: Magpie's task<T>):
/// fib_coro(n) and skynet_coro(leaves) compute what fib(n) and skynet(leaves) do.
template <class A>
concept has_fib_coro = adapter<A> && requires(A& a) {
  { a.fib_coro(int{}) } -> std::convertible_to<std::uint64_t>;
};

template <class A>
concept has_skynet_coro = adapter<A> && requires(A& a) {
  { a.skynet_coro(std::uint64_t{}) } -> std::convertible_to<std::uint64_t>;
};

template <class A>
concept has_nqueens = adapter<A> && requires(A& a) {
  { a.nqueens(int{}) } -> std::convertible_to<std::uint64_t>;
};

template <class A>
concept has_matmul = adapter<A> && requires(A& a, matmul_problem& p) {
  a.matmul(p);
};

/// parallel_for(first, last, grain, body): body(b, e) over consecutive subranges covering
/// [first, last), each at most `grain` long when grain > 0 (grain 0: the scheduler's default
/// partitioning). Called from the benchmark's thread, or from inside enter().
template <class A>
concept can_parallel_for = adapter<A> && requires(A& a) {
  a.parallel_for(std::size_t{}, std::size_t{}, std::size_t{}, detail::noop_range);
};

/// parallel_reduce(first, last, identity, map, reduce): reduce over map(i) for i in [first,
/// last); reduce is associative and commutative.
template <class A>
concept can_parallel_reduce = adapter<A> && requires(A& a) {
  {
    a.parallel_reduce(std::size_t{}, std::size_t{}, std::size_t{}, detail::identity_of, detail::add)
    } -> std::convertible_to<std::size_t>;
};

/// parallel_reduce_range(first, last, identity, body, reduce): body(b, e, acc) folds the
/// subrange [b, e) into acc and returns it (oneTBB's functional form); partial results are
/// combined with reduce, associative and commutative.
template <class A>
concept can_parallel_reduce_range = adapter<A> && requires(A& a) {
  {
    a.parallel_reduce_range(std::size_t{}, std::size_t{}, std::size_t{}, detail::fold_range,
                            detail::add)
    } -> std::convertible_to<std::size_t>;
};

/// enter(f), optional: runs f where this scheduler's users start many small loops from (Magpie:
/// on a worker; oneTBB: inside its arena). Without it, f runs on the calling thread (OpenMP's
/// master thread, a pool's client).
template <class A, class F>
void enter(A& a, F&& f) {
  if constexpr (requires { a.enter(std::forward<F>(f)); }) {
    a.enter(std::forward<F>(f));
  } else {
    std::forward<F>(f)();
  }
}

/// available, optional: false when the adapter needs something this build lacks; then `missing`
/// (a const char*) says what, only "unavailable/<name>" is registered, and the tables show n/a.
template <class A>
constexpr bool is_available() {
  if constexpr (requires { A::available; }) {
    return A::available;
  } else {
    return true;
  }
}

}  // namespace perf

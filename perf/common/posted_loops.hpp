// Loops for schedulers that only run closures (a thread pool): the range cut into one
// contiguous piece per thread (or grain-sized pieces), each posted as a task, and the caller
// blocked on a std::latch until all ran. What a pool's user writes for a loop; the pool does no
// balancing, so a skewed loop waits for its slowest piece.
#pragma once

#include <algorithm>
#include <cstddef>
#include <latch>
#include <vector>

namespace perf {

/// Calls piece(k, b, e) for the k-th of the pieces of at most `size` iterations that cover
/// [first, last), each as a posted task, and returns once all ran. post(closure) queues one
/// task. Not from one of the pool's own threads: the caller blocks, one thread fewer to run
/// the pieces.
template <class Post, class Piece>
void post_pieces(Post&& post, std::size_t first, std::size_t last, std::size_t size, Piece& piece) {
  const std::size_t pieces = (last - first + size - 1) / size;
  std::latch done(static_cast<std::ptrdiff_t>(pieces));
  for (std::size_t k = 0; k < pieces; ++k) {
    const std::size_t b = first + k * size;
    const std::size_t e = std::min(last, b + size);
    post([&piece, &done, k, b, e] {
      piece(k, b, e);
      done.count_down();
    });
  }
  done.wait();
}

/// body(b, e) over pieces of `grain`, or one piece per thread when grain is 0.
template <class Post, class Body>
void posted_for(Post&& post, std::size_t threads, std::size_t first, std::size_t last,
                std::size_t grain, Body& body) {
  if (last <= first) return;
  const std::size_t size = grain == 0 ? (last - first + threads - 1) / threads : grain;
  auto piece = [&body](std::size_t, std::size_t b, std::size_t e) { body(b, e); };
  post_pieces(post, first, last, size, piece);
}

/// One partial result per thread, combined in order on the caller's thread.
template <class Post, class T, class Map, class Reduce>
T posted_reduce(Post&& post, std::size_t threads, std::size_t first, std::size_t last, T identity,
                Map& map, Reduce& reduce) {
  if (last <= first) return identity;
  std::vector<T> partial(threads, identity);
  auto piece = [&](std::size_t k, std::size_t b, std::size_t e) {
    T acc = identity;
    for (std::size_t i = b; i < e; ++i)
      acc = reduce(acc, map(i));
    partial[k] = acc;
  };
  post_pieces(post, first, last, (last - first + threads - 1) / threads, piece);
  T result = identity;
  for (const T& p : partial)
    result = reduce(result, p);
  return result;
}

}  // namespace perf

// A loop run through the loop board (detail/loop_broadcast.hpp): the templates that turn a
// typed loop into a broadcast_job and back.
#pragma once

#include <cstddef>

#include "magpie/detail/loop_broadcast.hpp"
#include "magpie/detail/loop_index.hpp"
#include "magpie/detail/on_runtime.hpp"
#include "magpie/runtime.hpp"

namespace magpie::detail {

template <class Index, class Piece>
struct broadcast_ctx {
  Index first;
  const Piece* piece;
};

template <class Index, class Piece>
void run_broadcast_piece(const void* ctx, std::size_t k, std::size_t begin, std::size_t end) {
  const auto& c = *static_cast<const broadcast_ctx<Index, Piece>*>(ctx);
  (*c.piece)(k, advance(c.first, begin), advance(c.first, end));
}

/// A job over n iterations for the loop board: the caller and every worker may take part.
inline void plan_broadcast(runtime& rt, broadcast_job& job, std::size_t n, std::size_t grain) {
  job.n = n;
  job.grain = grain;
  job.participants = rt.worker_count() + (on_worker_of(detail::runtime_access::core(rt)) ? 0 : 1);
  job.pieces = broadcast_piece_count(n, grain, job.participants);
}

/// Posts the planned `job` over [first, first + job.n) on the loop board and runs it with the
/// workers that are searching: piece(k, b, e) for each piece k. Returns false, having run
/// nothing, when no worker searches or the board is taken; else returns when every piece is
/// done, rethrowing the first exception.
template <class Index, class Piece>
bool try_broadcast(runtime& rt, broadcast_job& job, Index first, const Piece& piece) {
  const broadcast_ctx<Index, Piece> ctx{first, &piece};
  job.run = &run_broadcast_piece<Index, Piece>;
  job.ctx = &ctx;
  if (!broadcast_post(detail::runtime_access::core(rt), job)) return false;
  broadcast_finish(detail::runtime_access::core(rt), job);
  return true;
}

/// parallel_for's pieces through the loop board when a worker searches (see try_broadcast).
template <class Index, class Chunk>
bool broadcast_for(runtime& rt, Index first, std::size_t n, std::size_t grain, const Chunk& chunk) {
  if (!broadcast_possible(detail::runtime_access::core(rt))) return false;
  broadcast_job job;
  plan_broadcast(rt, job, n, grain);
  return try_broadcast(rt, job, first, [&chunk](std::size_t, Index b, Index e) { chunk(b, e); });
}

}  // namespace magpie::detail

// A loop whose calling thread, outside the runtime, takes pieces beside helper tasks
// (loop_options::caller_joins when no worker is searching).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>

#include "magpie/detail/loop_index.hpp"
#include "magpie/errors.hpp"
#include "magpie/runtime.hpp"

namespace magpie::detail {

inline std::size_t piece_count(std::size_t n, std::size_t grain) {
  return n / grain + (n % grain != 0 ? 1 : 0);
}

/// The pieces of one loop that the calling thread shares with helper tasks. It lives on the
/// heap, owned by the caller and every helper: the caller returns as soon as every piece is done,
/// and a helper that starts after that finds no piece left and touches nothing else.
template <class Index, class Piece>
struct shared_pieces {
  Index first;
  std::size_t n;
  std::size_t grain;
  std::size_t pieces;
  const Piece* piece;  // dereferenced only for a claimed piece, i.e. before the caller returns
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // the first exception; read by the caller after `done` is complete

  // Claims pieces in order until none is left. A piece after a failure is claimed and skipped,
  // so that `done` still reaches `pieces`.
  void drain() noexcept {
    for (;;) {
      const std::size_t k = next.fetch_add(1, std::memory_order_relaxed);
      if (k >= pieces) return;
      if (!failed.load(std::memory_order_relaxed)) {
        MAGPIE_TRY {
          const std::size_t offset = k * grain;
          const Index b = advance(first, offset);
          (*piece)(k, b, advance(b, std::min(grain, n - offset)));
        }
        MAGPIE_CATCH(...) {
          if (!failed.exchange(true, std::memory_order_relaxed)) error = std::current_exception();
        }
      }
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == pieces) done.notify_all();
    }
  }

  void wait_done() const noexcept {
    for (int spin = 0; spin < 4096; ++spin) {  // the last pieces are usually microseconds away
      if (done.load(std::memory_order_acquire) == pieces) return;
    }
    for (std::size_t d = done.load(std::memory_order_acquire); d != pieces;
         d = done.load(std::memory_order_acquire)) {
      done.wait(d, std::memory_order_acquire);
    }
  }
};

/// From a thread outside the runtime: the caller and up to `workers` helper tasks take the
/// grain-sized pieces of [first, first + n) in order from one shared counter until none is left,
/// calling piece(k, b, e) for piece k. Returns when every piece is done, without waiting for
/// helpers that have not started (they find nothing to do). The first exception is rethrown.
template <class Index, class Piece>
void share_pieces(runtime& rt, Index first, std::size_t n, std::size_t grain, const Piece& piece) {
  const std::size_t pieces = piece_count(n, grain);
  const auto state = std::make_shared<shared_pieces<Index, Piece>>();
  state->first = first;
  state->n = n;
  state->grain = grain;
  state->pieces = pieces;
  state->piece = &piece;
  const std::size_t helpers = std::min(rt.worker_count(), pieces - 1);
  for (std::size_t h = 0; h < helpers; ++h) {
    if (!rt.try_submit([state] { state->drain(); })) break;  // full or closed: fewer helpers
  }
  state->drain();
  state->wait_done();
  // Moved out first: a late helper may drop the last reference to the state at any moment, and
  // the exception in flight must not be released on that helper's thread.
  if (std::exception_ptr error = std::move(state->error)) std::rethrow_exception(error);
}

}  // namespace magpie::detail

// Handing a loop to searching workers without tasks (docs/parallel-for.md, "Loops and searching
// workers"). The caller describes the loop in a broadcast_job on its stack and posts it on the
// runtime's loop board, a cache line that searching workers poll between steal rounds; whoever
// shows up steals a share of the caller's pieces (broadcast_job), and the caller returns when
// every participant has left. When no worker searches, or the board is taken, nothing is posted
// and the loop takes the ordinary path (lazy splitting with tasks).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>

#include "magpie/detail/cache_line.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

struct group_state;

class runtime_core;

/// One loop over the offsets [0, n): how it is cut and what runs a piece. Pieces come in rounds
/// of `participants` pieces, each round covering half of what the previous left, down to pieces
/// of `grain`, then grain-sized pieces for the rest: few claims for a small loop, small pieces
/// at the end of a large one to balance it. The cut depends only on (n, grain, participants),
/// so piece k is the same range whoever runs it.
///
/// Who runs which piece: each participant owns a range of piece numbers on its own line and
/// takes pieces from its front; one that has none left steals the back half (by iterations)
/// of the fullest range. The poster starts with every piece, so a loop nobody joins never
/// leaves its line, and a joiner costs a steal or two, not one shared counter's transfer for
/// every piece either side takes.
struct broadcast_job {
  using run_fn = void (*)(const void* ctx, std::size_t piece, std::size_t begin, std::size_t end);
  /// Participants that own a range; a joiner beyond them steals single pieces.
  static constexpr std::size_t max_owners = 8;

  /// Piece numbers [lo, hi) not yet begun, packed as lo << 32 | hi (a job has far fewer than
  /// 2^32 pieces: see broadcast_piece_count). Only the owner grows it, from empty; anyone
  /// shrinks it with a CAS. relaxed throughout: the word only divides the pieces; what a piece
  /// writes is published by its participant leaving the board (release) before the poster
  /// returns.
  struct alignas(cache_line) owned_range {
    std::atomic<std::uint64_t> word{0};
  };

  run_fn run = nullptr;
  const void* ctx = nullptr;
  std::size_t n = 0;
  std::size_t grain = 1;
  std::size_t participants = 1;
  std::size_t pieces = 0;  // broadcast_piece_count(n, grain, participants)
  std::size_t owners = 1;  // min(participants, max_owners), set by the post
  // The poster's current group (set by broadcast_post): the parent of groups made inside pieces
  // that joiners run, as inside the poster's own. It outlives the job: the poster waits for
  // every joiner to leave.
  const group_state* group = nullptr;
  std::atomic<bool> failed{false};  // an exception was thrown: pieces not begun are skipped
  std::exception_ptr error;         // the first; written by whoever set `failed`
  owned_range owned[max_owners];    // [0]: the poster's; [j]: the j-th joiner's
};

/// The number of pieces a job over n iterations is cut into.
MAGPIE_API std::size_t broadcast_piece_count(std::size_t n, std::size_t grain,
                                             std::size_t participants) noexcept;
/// True when a worker of `core` is searching and the board is free: worth building a job for.
MAGPIE_API bool broadcast_possible(runtime_core& core) noexcept;
/// Posts `job` (filled in, pieces set) on the board. False when no worker is searching or the
/// board is taken: nothing was posted, the caller runs the loop the ordinary way.
MAGPIE_API bool broadcast_post(runtime_core& core, broadcast_job& job) noexcept;
/// After a successful post: the caller runs pieces until none is left, takes the job off the
/// board, waits for every participant to leave and rethrows the first exception.
MAGPIE_API void broadcast_finish(runtime_core& core, broadcast_job& job);

}  // namespace magpie::detail

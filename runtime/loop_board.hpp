// The loop board: one line per runtime where a thread running a loop posts it
// (magpie/detail/loop_broadcast.hpp) and searching workers join it.
//
// The state word is epoch << 16 | taken | open | joined. One poster at a time takes the board
// (taken), writes the job pointer, then opens it; a joiner counts itself in `joined` with a CAS
// that expects the open word of that epoch, so it can join only the loop it saw, and only while
// it is open. Closing freezes `joined`; the poster waits until that many joiners have left (each
// leaves after its last piece, the only point after which it never touches the job again), then
// frees the board with a new epoch. The job lives on the poster's stack: it is dereferenced only
// between a successful join and the matching leave, and the poster outwaits every such window.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/loop_broadcast.hpp"

namespace magpie::detail {

class idle_set;

class loop_board {
 public:
  /// A poll for searchers: one load of a line that changes once per posted loop.
  bool is_open() const noexcept {
    // relaxed: a hint; join() checks again with its CAS.
    return (state_.load(std::memory_order_relaxed) & open_bit) != 0;
  }
  /// Whether a searcher has joined the open loop (a hint for the poster).
  bool has_joiners() const noexcept {
    return (state_.load(std::memory_order_relaxed) & joined_mask) != 0;  // relaxed: a hint
  }
  /// Whether no loop holds the board (a hint for broadcast_possible).
  bool is_free() const noexcept {
    return (state_.load(std::memory_order_relaxed) & taken_bit) == 0;  // relaxed: a hint
  }

  /// Takes the board and opens it with `job`. False if another loop holds it.
  bool post(broadcast_job& job) noexcept;
  /// Counts the caller in the open loop and returns its job; null when none is open (or the
  /// count is full). A non-null job must be followed by leave(). `who`: the caller's number
  /// among the participants (the poster is 0, joiners count from 1 in the order they joined).
  broadcast_job* join(std::size_t& who) noexcept;
  broadcast_job* join() noexcept {
    std::size_t who = 0;
    return join(who);
  }
  /// A joiner is done with the job: it never touches it again.
  void leave() noexcept;
  /// No more joiners (idempotent: a joiner that finds no piece left closes early). Returns
  /// how many joined.
  std::uint32_t close() noexcept;
  /// Poster, after its last piece: closes, waits until every joiner has left, frees the board.
  void retire() noexcept;

 private:
  static constexpr std::uint64_t joined_mask = (std::uint64_t{1} << 14) - 1;
  static constexpr std::uint64_t open_bit = std::uint64_t{1} << 14;
  static constexpr std::uint64_t taken_bit = std::uint64_t{1} << 15;
  static constexpr std::uint64_t epoch_one = std::uint64_t{1} << 16;
  static constexpr std::uint32_t sleeping_bit = std::uint32_t{1} << 31;
  /// The free word of the next epoch.
  static std::uint64_t freed(std::uint64_t s) noexcept {
    return (s & ~(joined_mask | open_bit | taken_bit)) + epoch_one;
  }

  alignas(cache_line) std::atomic<std::uint64_t> state_{0};
  std::atomic<broadcast_job*> job_{nullptr};  // valid while open; read right after a join
  std::atomic<std::uint32_t> left_{0};        // joiners that left; sleeping_bit: the poster sleeps
  std::uint64_t posted_ = 0;  // the open word of this epoch: the poster's, handed on with the board
};

/// [begin, end) of piece k of `job` (the cut described at broadcast_job).
void broadcast_piece_bounds(const broadcast_job& job, std::size_t k, std::size_t& begin,
                            std::size_t& end) noexcept;
/// No piece: what take_piece and steal_piece return when there is none to take.
inline constexpr std::size_t no_piece = ~std::size_t{0};
/// How many pieces participant `who` still owns (a hint: thieves may take some meanwhile).
std::size_t pieces_left(const broadcast_job& job, std::size_t who) noexcept;
/// The next piece of the range that participant `who` owns, or no_piece.
std::size_t take_piece(broadcast_job& job, std::size_t who) noexcept;
/// For a participant whose range is empty: takes the back half of the fullest range (by
/// iterations), keeps all of it but its first piece in its own range and returns that piece; a
/// participant beyond job.owners takes one piece. no_piece when every range is empty.
std::size_t steal_piece(broadcast_job& job, std::size_t who) noexcept;
/// Runs piece `first` (none if it is no_piece), then takes or steals pieces and runs them until
/// none is left (exceptions are kept in the job). A joiner passes no idle set; the poster (who
/// 0) passes its runtime's, to wake a sleeper while nobody has joined.
void run_broadcast_pieces(loop_board& board, broadcast_job& job, idle_set* idle, std::size_t who,
                          std::size_t first) noexcept;
/// The poster's side: from its own first piece.
void run_broadcast_pieces(loop_board& board, broadcast_job& job, idle_set* idle) noexcept;

}  // namespace magpie::detail

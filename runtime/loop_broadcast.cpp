// Loops handed to searching workers through the loop board (loop_board.hpp): the board's
// protocol, how a job is cut into pieces, the poster's side and the joining worker's side.
#include "magpie/detail/loop_broadcast.hpp"

#include <algorithm>

#include "futex.hpp"
#include "loop_board.hpp"
#include "pause.hpp"
#include "runtime_core.hpp"
#include "worker.hpp"

namespace magpie::detail {

bool loop_board::post(broadcast_job& job) noexcept {
  // One RMW, so that taking the board costs one transfer of its line. acquire: the previous
  // poster's release in retire() handed the board over after its joiners' last increments of
  // left_, so the reset below comes after them. On a taken board the bit is already set, so
  // this changes nothing.
  const std::uint64_t s = state_.fetch_or(taken_bit, std::memory_order_acquire);
  if ((s & taken_bit) != 0) return false;  // another loop holds it: this one goes the usual way
  // The poster owns every piece (the others' ranges start empty). relaxed: published by the
  // release store that opens the board, as are the two below.
  job.owners = std::min(job.participants, broadcast_job::max_owners);
  job.owned[0].word.store(job.pieces, std::memory_order_relaxed);  // [0, pieces)
  job_.store(&job, std::memory_order_relaxed);
  left_.store(0, std::memory_order_relaxed);
  posted_ = s | taken_bit | open_bit;  // poster-only, handed over with the board
  // release: a joiner's acquire CAS reads this (or a later joiner's CAS in its release
  // sequence), so it sees the job pointer, the reset and the job's contents. Only the poster
  // writes the word while it is taken and closed (joiners' CAS needs the open bit).
  state_.store(posted_, std::memory_order_release);
  return true;
}

broadcast_job* loop_board::join(std::size_t& who) noexcept {
  std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CAS checks it
  while ((s & open_bit) != 0 && (s & joined_mask) != joined_mask) {
    // acquire: pairs with post()'s release store (see there). On failure (a close, another
    // joiner) look again.
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      who = static_cast<std::size_t>(s & joined_mask) + 1;
      return job_.load(std::memory_order_relaxed);  // relaxed: ordered by the acquire CAS
    }
  }
  return nullptr;
}

void loop_board::leave() noexcept {
  // release: the pieces this joiner ran happen before the poster's acquire load that sees the
  // count complete, so the poster reads their results after it.
  const std::uint32_t before = left_.fetch_add(1, std::memory_order_release);
  // The poster set the bit before it slept: this RMW and its CAS on the same word are ordered,
  // so either it saw our increment and did not sleep, or we see the bit and wake it.
  if ((before & sleeping_bit) != 0) futex_wake_one(left_);
}

std::uint32_t loop_board::close() noexcept {
  // relaxed: only the count matters, and RMWs on one word are totally ordered: a joiner's CAS
  // either came first (counted) or fails on the cleared bit. The joiners' work is ordered by
  // leave()'s release, not by this.
  const std::uint64_t s = state_.fetch_and(~open_bit, std::memory_order_relaxed);
  return static_cast<std::uint32_t>(s & joined_mask);
}

void loop_board::retire() noexcept {
  // Nobody joined (the word is still the one we posted): close and free in one RMW. release:
  // hands the board to the next poster (its acquire RMW). A new epoch, so that a CAS prepared
  // against an older open word can never succeed.
  std::uint64_t s = posted_;
  if (state_.compare_exchange_strong(s, freed(s), std::memory_order_release,
                                     std::memory_order_relaxed)) {
    return;
  }
  const std::uint32_t joined = close();
  // acquire: pairs with leave()'s release (see there).
  std::uint32_t left = left_.load(std::memory_order_acquire);
  for (int spin = 0; (left & ~sleeping_bit) != joined; ++spin) {
    if (spin < 1024) {  // a joiner is usually finishing a piece of about a grain
      cpu_relax();
      left = left_.load(std::memory_order_acquire);
      continue;
    }
    // acquire on success: as the load above. A failed CAS reloads `left` (acquire too).
    if ((left & sleeping_bit) != 0 ||
        left_.compare_exchange_weak(left, left | sleeping_bit, std::memory_order_acquire,
                                    std::memory_order_acquire)) {
      futex_wait(left_, left | sleeping_bit);
      left = left_.load(std::memory_order_acquire);
    }
  }
  // release: as above, and after every joiner left. relaxed load: only we write it now.
  state_.store(freed(state_.load(std::memory_order_relaxed)), std::memory_order_release);
}

namespace {

// Round r of the cut holds `participants` pieces of n / (participants * 2^(r+1)) iterations.
// Rounds go on while that is at least the grain; then grain-sized pieces cover the rest.
struct cut {
  std::size_t rounds = 0;
  std::size_t covered = 0;  // iterations in the rounds
};

// Sizes come from q = n / p by shifts: (n >> s) / p == (n / p) >> s (floor of a floor), so a
// piece's bounds cost one division, not one per round (a 64-bit division is tens of cycles, and
// a tiny loop's pieces are each only a few nanoseconds of work).
cut rounds_of(std::size_t q, std::size_t grain, std::size_t p) noexcept {
  cut c;
  for (std::size_t shift = 1; shift < 64; ++shift) {
    const std::size_t size = q >> shift;
    if (size < grain || size == 0) break;
    ++c.rounds;
    c.covered += size * p;
  }
  return c;
}

}  // namespace

void broadcast_piece_bounds(const broadcast_job& job, std::size_t k, std::size_t& begin,
                            std::size_t& end) noexcept {
  const std::size_t p = job.participants;
  const std::size_t q = job.n / p;
  const std::size_t round = k / p;
  const cut c = rounds_of(q, job.grain, p);
  if (round < c.rounds) {
    std::size_t start = 0;
    for (std::size_t r = 0; r < round; ++r)
      start += (q >> (r + 1)) * p;
    const std::size_t size = q >> (round + 1);
    begin = start + (k - round * p) * size;
    end = begin + size;
    return;
  }
  begin = c.covered + (k - c.rounds * p) * job.grain;
  end = std::min(job.n, begin + job.grain);
}

namespace {

constexpr std::uint64_t range_word(std::size_t lo, std::size_t hi) noexcept {
  return std::uint64_t{lo} << 32 | hi;
}
constexpr std::size_t lo_of(std::uint64_t w) noexcept {
  return static_cast<std::size_t>(w >> 32);
}
constexpr std::size_t hi_of(std::uint64_t w) noexcept {
  return static_cast<std::size_t>(w & 0xffff'ffffu);
}

std::size_t piece_begin(const broadcast_job& job, std::size_t k) noexcept {
  std::size_t begin = 0, end = 0;
  broadcast_piece_bounds(job, k, begin, end);
  return begin;
}

// Where a thief cuts [lo, hi) (hi - lo >= 2): the first piece that begins in the second half of
// the range's iterations (pieces shrink along the cut, so halving the count would hand the thief
// far less than half), keeping at least one piece on each side.
std::size_t split_point(const broadcast_job& job, std::size_t lo, std::size_t hi) noexcept {
  std::size_t end = 0, ignored = 0;
  broadcast_piece_bounds(job, hi - 1, ignored, end);
  const std::size_t middle = piece_begin(job, lo) + (end - piece_begin(job, lo)) / 2;
  std::size_t a = lo + 1, b = hi - 1;  // the answer is in [a, b]
  while (a < b) {
    const std::size_t m = a + (b - a) / 2;
    if (piece_begin(job, m) >= middle) {
      b = m;
    } else {
      a = m + 1;
    }
  }
  return a;
}

}  // namespace

std::size_t pieces_left(const broadcast_job& job, std::size_t who) noexcept {
  if (who >= job.owners) return 0;
  const std::uint64_t r = job.owned[who].word.load(std::memory_order_relaxed);  // a hint
  return hi_of(r) - lo_of(r);
}

std::size_t take_piece(broadcast_job& job, std::size_t who) noexcept {
  if (who >= job.owners) return no_piece;  // a joiner beyond the owners has no range
  std::atomic<std::uint64_t>& word = job.owned[who].word;
  std::uint64_t r = word.load(std::memory_order_relaxed);  // relaxed: see owned_range
  while (lo_of(r) < hi_of(r)) {
    // relaxed: see owned_range. A failed CAS (a thief shrank the range) reloads `r`.
    if (word.compare_exchange_weak(r, r + range_word(1, 0), std::memory_order_relaxed,
                                   std::memory_order_relaxed)) {
      return lo_of(r);
    }
  }
  return no_piece;
}

std::size_t steal_piece(broadcast_job& job, std::size_t who) noexcept {
  for (;;) {
    std::size_t victim = job.owners, most = 0;
    std::uint64_t seen = 0;
    for (std::size_t v = 0; v < job.owners; ++v) {
      const std::uint64_t r = job.owned[v].word.load(std::memory_order_relaxed);  // relaxed: see
      if (v != who && hi_of(r) - lo_of(r) > most) {                               // owned_range
        victim = v;
        most = hi_of(r) - lo_of(r);
        seen = r;
      }
    }
    if (victim == job.owners) return no_piece;
    const std::size_t lo = lo_of(seen), hi = hi_of(seen);
    // One piece left, or a thief with no range of its own: the last piece only.
    const std::size_t cut = most == 1 || who >= job.owners ? hi - 1 : split_point(job, lo, hi);
    // relaxed: see owned_range. Failure: the owner or another thief took some; look again.
    if (job.owned[victim].word.compare_exchange_strong(
            seen, range_word(lo, cut), std::memory_order_relaxed, std::memory_order_relaxed)) {
      // Our own range is empty and only we grow it: a plain store (relaxed: see owned_range).
      if (cut + 1 < hi)
        job.owned[who].word.store(range_word(cut + 1, hi), std::memory_order_relaxed);
      return cut;
    }
  }
}

// The poster passes `idle`: while nobody has joined it wakes a sleeper between pieces if nobody
// searches (the searcher it posted for may have parked before it looked), so a large loop does
// not run on the poster alone.
void run_broadcast_pieces(loop_board& board, broadcast_job& job, idle_set* idle, std::size_t who,
                          std::size_t k) noexcept {
  while (k != no_piece) {
    if (!job.failed.load(std::memory_order_relaxed)) {  // relaxed: skipping is a hint
      try {
        std::size_t begin = 0, end = 0;
        broadcast_piece_bounds(job, k, begin, end);
        job.run(job.ctx, k, begin, end);
      } catch (...) {
        // relaxed: whoever wins writes `error`; the poster reads it after every participant
        // left (release/acquire through the board) or after its own pieces.
        if (!job.failed.exchange(true, std::memory_order_relaxed))
          job.error = std::current_exception();
      }
    }
    k = take_piece(job, who);
    if (k == no_piece) k = steal_piece(job, who);
    if (idle != nullptr && k != no_piece && pieces_left(job, who) != 0 && !board.has_joiners())
      idle->wake_if_no_searcher();
  }
}

void run_broadcast_pieces(loop_board& board, broadcast_job& job, idle_set* idle) noexcept {
  run_broadcast_pieces(board, job, idle, 0, take_piece(job, 0));
}

std::size_t broadcast_piece_count(std::size_t n, std::size_t grain,
                                  std::size_t participants) noexcept {
  grain = std::max<std::size_t>(grain, 1);
  participants = std::max<std::size_t>(participants, 1);
  const cut c = rounds_of(n / participants, grain, participants);
  const std::size_t rest = n - c.covered;
  return c.rounds * participants + rest / grain + (rest % grain != 0 ? 1 : 0);
}

bool broadcast_possible(runtime_core& core) noexcept {
  // relaxed: a hint. Stale either way, the loop is still right: posted with nobody coming, the
  // caller runs every piece; not posted, it takes the ordinary path.
  return core.idle.searching_now() != 0 && core.loops.is_free();
}

bool broadcast_post(runtime_core& core, broadcast_job& job) noexcept {
  if (job.pieces <= 1) return false;
  job.group = tls_worker != nullptr ? tls_worker->current_group() : nullptr;
  return core.loops.post(job);  // the caller asked broadcast_possible
}

void broadcast_finish(runtime_core& core, broadcast_job& job) {
  run_broadcast_pieces(core.loops, job, &core.idle);
  core.loops.retire();
  // Moved out: rethrown after the board is free again.
  if (std::exception_ptr error = std::move(job.error)) std::rethrow_exception(error);
}

// The searching worker's side: run pieces of a posted loop as ordinary work (not counted as
// searching meanwhile, so producers wake a sleeper for work that arrives), then search again.
// Searching again before leaving: the poster returns once we left and may post its next loop
// at once, and should then see us searching.
bool worker::join_loop() {
  std::size_t who = 0;
  broadcast_job* job = core->loops.join(who);
  if (job == nullptr) return false;
  // Take a piece first: a joiner that came too late (the usual case for a loop of a few
  // hundred nanoseconds) closes the board and leaves at once, still searching, so that the
  // poster waits only for a join, a look and a leave, not for two updates of the idle set.
  who = std::min(who, job->owners);  // beyond the owners: single pieces
  const std::size_t k = steal_piece(*job, who);
  if (k == no_piece) {
    core->loops.close();
    core->loops.leave();
    return true;
  }
  stop_searching();
  // Pieces are not tasks, so they do not set the current group; between tasks it is the last
  // task's, which may be gone. A group made in a piece takes the poster's as its parent.
  current_group_ = job->group;
  counters.doing.got_busy();
  // More than one piece left after ours: a sleeping worker would find something to take.
  if (pieces_left(*job, who) != 0) core->idle.wake_if_no_searcher();
  run_broadcast_pieces(core->loops, *job, nullptr, who, k);
  core->loops.close();  // nothing left to take: searchers need not join any more
  counters.doing.went_idle();
  const bool searching = start_searching();
  core->loops.leave();
  return searching;
}

// Right after a loop, the next one usually follows within a microsecond (loops called back to
// back): watch only the board's line for a bounded few pauses, so that the post is seen one
// transfer after it is made, instead of after a steal round. Bounded well below the search's
// spin window; a task pushed meanwhile waits at most this long, as it would behind a round.
void worker::linger_on_board() noexcept {
  for (int i = 0; i < board_linger_pauses && !core->loops.is_open(); ++i)
    cpu_relax();
}

}  // namespace magpie::detail

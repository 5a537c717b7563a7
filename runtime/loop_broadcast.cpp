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
  // relaxed: both are published by the release store that opens the board.
  job_.store(&job, std::memory_order_relaxed);
  left_.store(0, std::memory_order_relaxed);
  posted_ = s | taken_bit | open_bit;  // poster-only, handed over with the board
  // release: a joiner's acquire CAS reads this (or a later joiner's CAS in its release
  // sequence), so it sees the job pointer, the reset and the job's contents. Only the poster
  // writes the word while it is taken and closed (joiners' CAS needs the open bit).
  state_.store(posted_, std::memory_order_release);
  return true;
}

broadcast_job* loop_board::join() noexcept {
  std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: the CAS checks it
  while ((s & open_bit) != 0 && (s & joined_mask) != joined_mask) {
    // acquire: pairs with post()'s release store (see there). On failure (a close, another
    // joiner) look again.
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
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

cut rounds_of(std::size_t n, std::size_t grain, std::size_t p) noexcept {
  cut c;
  for (std::size_t shift = 1; shift < 64; ++shift) {
    const std::size_t size = (n >> shift) / p;
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
  const std::size_t round = k / p;
  const cut c = rounds_of(job.n, job.grain, p);
  if (round < c.rounds) {
    std::size_t start = 0;
    for (std::size_t r = 0; r < round; ++r)
      start += ((job.n >> (r + 1)) / p) * p;
    const std::size_t size = (job.n >> (round + 1)) / p;
    begin = start + (k % p) * size;
    end = begin + size;
    return;
  }
  begin = c.covered + (k - c.rounds * p) * job.grain;
  end = std::min(job.n, begin + job.grain);
}

// A joiner that claims the last piece closes the board, so that searchers stop joining a loop
// with nothing left to take. The poster passes `idle`: while nobody has joined it wakes a
// sleeper between pieces if nobody searches (the searcher it posted for may have parked before
// it looked), so a large loop does not run on the poster alone.
void run_broadcast_pieces(loop_board& board, broadcast_job& job, idle_set* idle) noexcept {
  for (;;) {
    const std::size_t k = job.next.fetch_add(1, std::memory_order_relaxed);  // see the field
    if (k >= job.pieces) return;
    if (idle == nullptr && k + 1 == job.pieces) board.close();  // the poster closes in retire()
    if (job.failed.load(std::memory_order_relaxed)) continue;   // relaxed: skipping is a hint
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
    if (idle != nullptr && k + 2 < job.pieces && !board.has_joiners()) idle->wake_if_no_searcher();
  }
}

std::size_t broadcast_piece_count(std::size_t n, std::size_t grain,
                                  std::size_t participants) noexcept {
  grain = std::max<std::size_t>(grain, 1);
  participants = std::max<std::size_t>(participants, 1);
  const cut c = rounds_of(n, grain, participants);
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
  broadcast_job* job = core->loops.join();
  if (job == nullptr) return false;
  stop_searching();
  // Pieces are not tasks, so they do not set the current group; between tasks it is the last
  // task's, which may be gone. A group made in a piece takes the poster's as its parent.
  current_group_ = job->group;
  counters.doing.got_busy();
  // More than one piece left: a sleeping worker would find something to take when it searches.
  if (job->next.load(std::memory_order_relaxed) + 1 < job->pieces) core->idle.wake_if_no_searcher();
  run_broadcast_pieces(core->loops, *job, nullptr);
  counters.doing.went_idle();
  const bool searching = start_searching();
  core->loops.leave();
  return searching;
}

}  // namespace magpie::detail

// The shared state of a task_group (and of a future): how many of its tasks are outstanding,
// who waits, cancellation and the first exception.
//
// Join counting (docs/design.md, "Joining without shared RMWs"). A group made on a worker has
// that worker as its home. Tasks the home spawns are counted in `home_pending`, which only the
// home writes (a plain load and store); when the home runs them itself it counts them back down
// the same way, so a group whose tasks are not stolen is joined without any atomic RMW. Every
// other count goes through the shared `word`: spawns by other threads add to it, and a thief that
// finishes a home-counted task subtracts from it (the word may go negative). At every moment
//     outstanding = home_pending + count(word).
// A waiter that wants to sleep needs the last finisher to see it, so it needs one word: the home,
// before it sleeps, folds home_pending into the word in the same CAS that sets the waiter bit.
// While it sleeps it changes nothing, so the finisher whose RMW brings the word's count to zero
// knows the group is done from the value its RMW returned, and touches nothing in the group
// after it (the waiter may already have destroyed it). A thread other than the home cannot fold
// the home's count; it waits by helping or polling instead (task_group.cpp, wait_foreign).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>

#include "magpie/config.hpp"
#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/debug_check.hpp"
#include "magpie/detail/single_writer.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

class runtime_core;
struct worker_base;
struct group_extras;  // group_extras.hpp
struct group_state;

/// `g` was just canceled and its tree has stop tokens (task_group::stop_token): requests stop on
/// every one whose group now counts as canceled (runtime/group_extras.cpp).
MAGPIE_API void request_group_stops(const group_state& g) noexcept;

struct group_state {
  /// A group made on a worker of `c` has that worker as its home, and the group of the task that
  /// worker runs as its parent (the cancellation tree). The parent outlives this group: a group
  /// made inside a task is waited for (and destroyed) before that task returns. Defined in
  /// worker_base.hpp.
  group_state(runtime_core& c, priority p);
  /// A group with no home (all counts atomic) and the given parent: futures.
  group_state(runtime_core& c, priority p, const group_state* parent_group) noexcept
      : group_state(c, p, nullptr, parent_group) {}
  group_state(runtime_core& c, priority p, worker_base* home_worker,
              const group_state* parent_group) noexcept
      : core(&c),
        home(home_worker),
        local_spawner(p == priority::normal ? home_worker : nullptr),
        prio(p),
        parent(parent_group),
        root(parent_group != nullptr ? parent_group->root : this) {}
  group_state(const group_state&) = delete;
  group_state& operator=(const group_state&) = delete;

  static constexpr std::int64_t waiter_bit = 1;
  static constexpr std::int64_t one_task = 2;
  static std::int64_t count_of(std::int64_t w) noexcept { return w >> 1; }  // floor: may be < 0

  // ---- Counting. Each function states who may call it.

  /// Any thread but the home (or the home for a task it does not count locally): one more task.
  void add_shared() noexcept {
    // relaxed: the count is read through RMWs and acquire loads of the same word, and the
    // spawner's own task (or the waiter itself) keeps it from reaching zero meanwhile.
    word.fetch_add(one_task, std::memory_order_relaxed);
  }
  /// The home only: one more task, counted locally.
  void add_home() noexcept {
    // release: single writer; foreign readers acquire-load it (see outstanding).
    single_writer_add_release(home_pending, std::int64_t{1});
  }
  /// The home only, for a task it counted locally and ran itself.
  void finish_home() noexcept {
    // A home-counted task cannot outlive a fold: the home folds only when its deques are empty.
    MAGPIE_DEBUG_CHECK(home_pending.load(std::memory_order_relaxed) >= 1);
    // release: a foreign poller that sees the lower count sees the task's effects.
    single_writer_add_release(home_pending, std::int64_t{-1});
  }
  /// Any other finisher. Returns true if the caller must wake the group's sleeping waiters
  /// (idle_set::wake_group_waiters). Touches nothing in the group after its RMW.
  [[nodiscard]] bool finish_shared() noexcept {
    // acq_rel: release publishes this task's effects to the waiter that sees the count reach
    // zero; acquire orders it after the waiter's announcement it read.
    const std::int64_t before = word.fetch_sub(one_task, std::memory_order_acq_rel);
    // Only home-counted tasks finished by thieves take the count below zero, and the home
    // counts each of those once: never more than it spawned.
    MAGPIE_DEBUG_CHECK(home != nullptr || count_of(before) >= 1);
    return (before & waiter_bit) != 0 && count_of(before) == 1;
  }
  /// Tasks spawned and not finished. Exact on the home; from another thread, a count that the
  /// home may lower at any time without telling anyone.
  std::int64_t outstanding() const noexcept {
    // acquire (both): pairs with the finishers' release, so their effects (and `error`) are
    // visible once zero is seen. home_pending first: if we see the home's later value we see
    // the word as of then too.
    const std::int64_t h = home_pending.load(std::memory_order_acquire);
    return h + count_of(word.load(std::memory_order_acquire));
  }
  /// The home, or a thread waiting on a group without a home, about to sleep: folds the home's
  /// count into the word and sets the waiter bit in one RMW. Returns true if the group is done
  /// (then do not sleep). seq_cst: the sleeper's half of the pair with finish_shared.
  bool announce_waiter() noexcept {
    const std::int64_t h = home_pending.load(std::memory_order_relaxed);
    std::int64_t w = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(w, (w + h * one_task) | waiter_bit,
                                       std::memory_order_seq_cst, std::memory_order_relaxed)) {
    }
    // release: a poller that reads the 0 (acquire) also sees the folded word.
    home_pending.store(0, std::memory_order_release);
    return count_of(w) + h == 0;
  }
  /// After a wait returned with nothing outstanding: clears the waiter bit so that a reused
  /// group's finishers do not look for sleepers. No-op (no RMW) when no waiter slept.
  void waiter_left() noexcept {
    // relaxed: nothing is outstanding, so no finisher races this RMW.
    if ((word.load(std::memory_order_relaxed) & waiter_bit) != 0) {
      word.fetch_and(~waiter_bit, std::memory_order_relaxed);
    }
  }

  // ---- Cancellation.

  /// This group or an ancestor was canceled. Advisory (relaxed): a cancel that happens-before
  /// the call is seen; one racing with it may be seen late, letting one more task start.
  bool cancel_requested() const noexcept {
    if (!tree_may_be_canceled()) return false;  // the common case
    for (const group_state* g = this; g != nullptr; g = g->parent) {
      if (g->canceled.load(std::memory_order_relaxed) != 0) return true;
    }
    return false;
  }
  /// One load: false means nothing in this group's tree was canceled.
  bool tree_may_be_canceled() const noexcept {
    return (root->tree_flags.load(std::memory_order_relaxed) & tree_canceled) != 0;
  }
  static constexpr unsigned char by_user = 1;   // cancel(): final
  static constexpr unsigned char by_error = 2;  // a task threw: lifted when wait() rethrows
  /// Cancels this group and, through cancel_requested, every group below it. Never blocks.
  void request_cancel(unsigned char why) noexcept {
    // relaxed: advisory (see cancel_requested); whatever orders the cancel before a check (a
    // gate, a wait, the worker's own program order) orders both writes.
    canceled.fetch_or(why, std::memory_order_relaxed);
    // acq_rel: one RMW order with group_stop_token's setting of tree_watched: whichever comes
    // second sees the other's bit, so a token made concurrently is stopped by one of the two
    // (release: that side then also sees `canceled` above; acquire: the registry entry).
    const unsigned char before =
        root->tree_flags.fetch_or(tree_canceled, std::memory_order_acq_rel);
    if ((before & tree_watched) != 0) [[unlikely]]
      request_group_stops(*this);
  }

  /// A task of the group threw `e`: the first one is kept for the waiter, and the group's tree
  /// is canceled (advisory: running tasks finish).
  void record_error(std::exception_ptr e) noexcept {
    // acq_rel: exactly one task claims the slot; the waiter reads `error` after the count
    // reaches zero, which the claimant's later decrement (release) orders after this write.
    if (!error_claimed.exchange(true, std::memory_order_acq_rel)) error = std::move(e);
    request_cancel(by_error);
  }
  /// After a wait saw nothing outstanding: the first exception, once (null if none). Lifts the
  /// cancellation that the exception caused, so the group can be reused; cancel() stays final.
  std::exception_ptr take_error() noexcept {
    // relaxed: the acquire load that saw zero already ordered the tasks' writes before us.
    if (!error_claimed.load(std::memory_order_relaxed)) return nullptr;
    std::exception_ptr e = std::move(error);
    error = nullptr;
    error_claimed.store(false, std::memory_order_relaxed);
    canceled.fetch_and(static_cast<unsigned char>(~by_error), std::memory_order_relaxed);
    return e;
  }

  // Three groups of fields, each written by different threads, kept a padding of cache_line
  // bytes apart rather than aligned to it: a group lives on its task's stack, and an
  // over-aligned member would make every function that holds a task_group realign its stack
  // frame (which also keeps the compiler from skipping the frame on early returns, such as
  // the leaves of a recursion).
  //
  // Written by every thread that counts through it: finishers of stolen or remote tasks,
  // remote spawners, waiters.
  std::atomic<std::int64_t> word{0};  // count * 2 | waiter bit
  char pad_after_word_[cache_line - sizeof(std::int64_t)];
  // Written by the home only.
  std::atomic<std::int64_t> home_pending{0};
  char pad_after_home_[cache_line - sizeof(std::int64_t)];
  // Read-mostly: read by every task of the group (and, on the root, of its tree).
  runtime_core* const core;
  worker_base* const home;  // null: no home (made off the runtime's workers)
  // The home while the group's tasks go to the normal lane and it has no limit, else null: a
  // spawn from it takes the shortest path (worker_base::spawn_local).
  worker_base* local_spawner;
  const priority prio;              // the priority its tasks are queued at (lane_of: the lane)
  const group_state* const parent;  // null for a root
  const group_state* const root;    // outermost ancestor (this for a root)
  // On the root. tree_canceled: some group of this tree was canceled, so cancel_requested must
  // walk the chain. tree_watched: some group of it handed out a stop token, so a cancel must
  // look for the tokens to stop. Mutable: descendants, which see their ancestors as const, set it.
  static constexpr unsigned char tree_canceled = 1;
  static constexpr unsigned char tree_watched = 2;
  mutable std::atomic<unsigned char> tree_flags{0};
  std::atomic<unsigned char> canceled{0};  // by_user | by_error
  std::atomic<bool> error_claimed{false};
  std::exception_ptr error;  // written once by the claimant, read by the waiter after zero
  // A task_group's limit and stop token, made when first asked for (group_extras.hpp) and freed
  // by ~task_group. Mutable: a coroutine sees its group as const and may ask for its token.
  mutable std::atomic<group_extras*> extras{nullptr};
};

}  // namespace magpie::detail

// The state of a magpie::strand: an intrusive multi-producer single-consumer queue of tasks
// (Vyukov's, with a stub node) and a count of tasks submitted and not yet finished, whose
// 0 -> 1 step schedules the strand's runner. Shared (shared_ptr) by the strand and its runner,
// so a strand destroyed with tasks queued still runs them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "magpie/config.hpp"
#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/held_source.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

struct strand_node {
  std::atomic<strand_node*> next{nullptr};
  task item;
};

class MAGPIE_API strand_state final : public held_source,
                                      public std::enable_shared_from_this<strand_state> {
 public:
  /// Tasks a runner runs before it yields its worker (it then queues itself again).
  static constexpr std::uint64_t batch = 64;

  strand_state(runtime_core& c, priority p);
  ~strand_state();

  /// An empty node: from the calling thread's cache of nodes, refilled from the ones this
  /// strand's runner gave back, else new. Throws std::bad_alloc.
  strand_node* make_node();
  /// Appends `n` (its task built) and, if the strand was idle, schedules its runner with the
  /// caller's reservation `r`; otherwise gives `r` back. Throws std::bad_alloc only if the
  /// runner could not be queued; see docs/errors.md.
  void push(strand_node* n, reservation r);
  /// If the strand is busy (its count is not zero: a runner exists, queued or running, and
  /// reaches every node counted before its last fetch_sub) and the runtime open, counts one more
  /// task and returns true: the caller must then link() its node at once. Else false, nothing
  /// changed: the caller reserves a slot and push()es.
  bool try_join() noexcept;
  /// Appends `n` (its task built) whose place try_join took.
  void link(strand_node* n) noexcept;
  std::uint64_t held() const noexcept override { return count_.load(std::memory_order_relaxed); }

  /// The runner's work: one batch (at most `batch` tasks, fewer once shutdown(cancel) began).
  /// Runs on a worker. Returns true if tasks remain: the caller must queue a runner again.
  bool run_batch() noexcept;
  /// The runner was destroyed unrun (shutdown(cancel), or it could not be queued): drops every
  /// task queued, counting them as discarded (the first one is counted by whoever discarded the
  /// runner).
  void discard_all() noexcept;

  runtime_core& core;
  const priority prio;

 private:
  strand_node* pop() noexcept;
  strand_node* pop_wait() noexcept;
  void give_back(strand_node* first, strand_node* last, std::uint64_t n) noexcept;

  // Producers' line: the queue's tail and the count.
  alignas(cache_line) std::atomic<strand_node*> tail_;
  std::atomic<std::uint64_t> count_{0};
  // The runner's line: only the one runner of the moment touches head_; spare_ (nodes it gave
  // back, a stack of chains) is pushed once per batch and emptied by producers with one exchange.
  alignas(cache_line) strand_node* head_;
  std::atomic<strand_node*> spare_{nullptr};
  std::atomic<std::uint64_t> spare_count_{0};  // approximate: caps what is kept
  strand_node stub_;
};

}  // namespace magpie::detail

#include "magpie/strand.hpp"

#include <algorithm>
#include <exception>
#include <thread>

#include "pause.hpp"
#include "runtime_core.hpp"
#include "worker.hpp"

namespace magpie::detail {
namespace {

// The task that runs a strand's queue, one batch per run. Exactly one exists (queued or
// running) while the strand's count is not zero. It stands for the first task of its batch in
// the worker's counters, so the shutdown report counts strand tasks, not runners.
class strand_runner {
 public:
  explicit strand_runner(std::shared_ptr<strand_state> s) noexcept : s_(std::move(s)) {}
  strand_runner(strand_runner&& o) noexcept : s_(std::move(o.s_)), ran_(o.ran_) {}
  strand_runner& operator=(strand_runner&&) = delete;
  ~strand_runner() {
    if (s_ != nullptr && !ran_) s_->discard_all();
  }

  void operator()() {
    ran_ = true;
    while (s_->run_batch()) {
      // More queued: queue a runner behind the lane's other work (the injector's back, so every
      // worker sees it and tasks queued meanwhile go first), handing it our reference.
      reservation r{};
      try {
        r = s_->core.reserve_behind();
      } catch (const std::bad_alloc&) {
        continue;  // no block for it: run the next batch here instead
      }
      runtime_core& core = s_->core;  // read before s_ moves into the argument
      const priority lane = s_->lane;
      submit_callable(core, r, strand_runner(std::move(s_)), nullptr, lane);
      return;
    }
  }

 private:
  std::shared_ptr<strand_state> s_;
  bool ran_ = false;
};

}  // namespace

strand_state::strand_state(runtime_core& c, priority p)
    : held_source(kind::strand), core(c), lane(p), tail_(&stub_), head_(&stub_) {
  core.holders.add(*this);
}

strand_state::~strand_state() {
  // No runner exists (it holds a reference), so count_ is 0 and only the stub is queued.
  core.holders.remove(*this);
}

void strand_state::push(std::unique_ptr<strand_node> n, reservation r) {
  strand_node* node = n.release();
  // acq_rel: acquire so that our link below comes after the previous producer's setup of its
  // node; release publishes our node's fields to the next producer.
  strand_node* prev = tail_.exchange(node, std::memory_order_acq_rel);
  prev->next.store(node, std::memory_order_release);  // release: the runner acquires the task
  // acq_rel: seeing 0 orders us after the last runner's final fetch_sub (release), so the
  // runner we schedule sees everything the strand's earlier tasks did.
  if (count_.fetch_add(1, std::memory_order_acq_rel) != 0) {
    release_slot(core, r);  // a runner exists and will reach our node
    return;
  }
  // If the injector cannot take the runner, destroying it drops what is queued (errors.md).
  submit_callable(core, r, strand_runner(shared_from_this()), nullptr, lane);
}

// Vyukov's intrusive MPSC pop: null when empty or when a producer has swapped the tail but not
// yet linked its node (pop_wait waits that out).
strand_node* strand_state::pop() noexcept {
  strand_node* h = head_;
  strand_node* next = h->next.load(std::memory_order_acquire);  // acquire: the producer's node
  if (h == &stub_) {
    if (next == nullptr) return nullptr;
    head_ = next;
    h = next;
    next = next->next.load(std::memory_order_acquire);
  }
  if (next != nullptr) {
    head_ = next;
    return h;
  }
  if (h != tail_.load(std::memory_order_acquire)) return nullptr;  // a link is on its way
  // h is the last node: put the stub behind it so that h can be taken.
  stub_.next.store(nullptr, std::memory_order_relaxed);  // relaxed: published by the exchange
  strand_node* prev = tail_.exchange(&stub_, std::memory_order_acq_rel);
  prev->next.store(&stub_, std::memory_order_release);
  next = h->next.load(std::memory_order_acquire);
  if (next == nullptr) return nullptr;
  head_ = next;
  return h;
}

// The count says a node is there; its producer may be between its exchange and its link (a few
// instructions, unless it was preempted there).
strand_node* strand_state::pop_wait() noexcept {
  for (unsigned round = 0;; ++round) {
    if (strand_node* n = pop()) return n;
    if (round < 64) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

bool strand_state::run_batch() noexcept {
  worker* w = this_worker();
  // acquire: pairs with the producers' fetch_add, though the nodes come through their links.
  const std::uint64_t avail = count_.load(std::memory_order_acquire);
  const std::uint64_t limit = std::min(avail, batch);
  std::uint64_t n = 0;
  for (; n < limit; ++n) {
    // Once shutdown(cancel) began, stop: the runner queued next is discarded with the rest.
    if (n != 0 && core.canceling()) break;
    std::unique_ptr<strand_node> node(pop_wait());
    if (n != 0) worker_counters::bump(w->counters.begun);  // the runner counted the first
    try {
      node->item.run();
    } catch (...) {
      worker_counters::bump(w->counters.exceptions);
      core.report_detached_exception(std::current_exception());
    }
    if (n != 0) worker_counters::bump(w->counters.ran);
  }
  // acq_rel: release hands our tasks' effects to the next runner (scheduled by a producer that
  // sees 0); acquire is for the count of tasks still to come.
  return count_.fetch_sub(n, std::memory_order_acq_rel) != n;
}

void strand_state::discard_all() noexcept {
  bool first = true;  // counted already, as the runner, by whoever discarded it
  for (;;) {
    const std::uint64_t avail = count_.load(std::memory_order_acquire);  // acquire: as run_batch
    for (std::uint64_t i = 0; i < avail; ++i) {
      std::unique_ptr<strand_node> node(pop_wait());
      if (first) {
        node->item.discard();
        first = false;
      } else {
        core.discard_held(node->item, lane);
      }
    }
    if (count_.fetch_sub(avail, std::memory_order_acq_rel) == avail) return;  // as run_batch
  }
}

}  // namespace magpie::detail

#include "magpie/strand.hpp"

#include <algorithm>
#include <exception>
#include <thread>

#include "pause.hpp"
#include "runtime_core.hpp"
#include "worker.hpp"

namespace magpie::detail {
namespace {

// Spare nodes per thread (any strand's: they are all alike), so that a producer's submit does
// not call malloc and a worker's run does not free memory another thread allocated.
struct node_cache {
  strand_node* head = nullptr;
  node_cache() = default;
  node_cache(const node_cache&) = delete;
  node_cache& operator=(const node_cache&) = delete;
  ~node_cache() {
    while (head != nullptr) {
      strand_node* n = head;
      head = n->next.load(std::memory_order_relaxed);  // relaxed: this thread's own list
      delete n;
    }
  }
};
thread_local node_cache spare_nodes;

// A strand keeps at most this many given-back nodes for its producers; the rest are freed.
constexpr std::uint64_t max_spare = 4096;

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
      const priority prio = s_->prio;
      submit_callable(core, r, strand_runner(std::move(s_)), nullptr, prio);
      return;
    }
  }

 private:
  std::shared_ptr<strand_state> s_;
  bool ran_ = false;
};

}  // namespace

strand_state::strand_state(runtime_core& c, priority p)
    : held_source(kind::strand), core(c), prio(p), tail_(&stub_), head_(&stub_) {
  core.holders.add(*this);
}

strand_state::~strand_state() {
  // No runner exists (it holds a reference), so count_ is 0 and only the stub is queued.
  core.holders.remove(*this);
  strand_node* n = spare_.load(std::memory_order_acquire);  // acquire: the runner's last chain
  while (n != nullptr) {
    strand_node* following = n->next.load(std::memory_order_relaxed);
    delete n;
    n = following;
  }
}

strand_node* strand_state::make_node() {
  node_cache& c = spare_nodes;
  if (c.head == nullptr && spare_.load(std::memory_order_relaxed) != nullptr) {
    // acquire: pairs with give_back's release, so the runner's last writes to these nodes (the
    // destroyed callables) come before ours. Taking the whole stack avoids the ABA of a pop.
    c.head = spare_.exchange(nullptr, std::memory_order_acquire);
    spare_count_.store(0, std::memory_order_relaxed);  // relaxed: an approximate cap
  }
  if (c.head == nullptr) return new strand_node;
  strand_node* n = c.head;
  c.head = n->next.load(std::memory_order_relaxed);  // relaxed: this thread's own list now
  return n;
}

// The runner hands back the chain first..last of n nodes it ran: onto the strand's stack of
// spares (a Treiber push of a chain, which ABA cannot harm), or freed once enough are kept.
void strand_state::give_back(strand_node* first, strand_node* last, std::uint64_t n) noexcept {
  if (spare_count_.load(std::memory_order_relaxed) >= max_spare) {  // relaxed: a cap
    while (first != nullptr) {
      strand_node* following = first->next.load(std::memory_order_relaxed);
      delete first;
      first = following;
    }
    return;
  }
  spare_count_.fetch_add(n, std::memory_order_relaxed);
  strand_node* top = spare_.load(std::memory_order_relaxed);
  do {
    last->next.store(top, std::memory_order_relaxed);  // relaxed: published by the CAS
    // release: publishes the chain and our writes to its nodes to the producer that takes it.
  } while (!spare_.compare_exchange_weak(top, first, std::memory_order_release,
                                         std::memory_order_relaxed));
}

bool strand_state::try_join() noexcept {
  std::uint64_t c = count_.load(std::memory_order_relaxed);  // relaxed: a guess the CAS checks
  // A submit that sees the runtime closed takes the reserving path, which refuses it. One that
  // misses a concurrent close is still run or counted as discarded: its runner exists.
  if (c == 0 || core.closed()) return false;
  // relaxed: the count only keeps the existing runner going (it runs our task after the ones it
  // already runs, so they happen-before ours); the task itself reaches it through link's
  // release, which its pop acquires.
  while (!count_.compare_exchange_weak(c, c + 1, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
    if (c == 0) return false;  // the runner finished meanwhile: a new one must be scheduled
  }
  return true;
}

void strand_state::link(strand_node* node) noexcept {
  node->next.store(nullptr, std::memory_order_relaxed);  // relaxed: published by the exchange
  // acq_rel: acquire so that our link below comes after the previous producer's setup of its
  // node; release publishes our node's fields to the next producer.
  strand_node* prev = tail_.exchange(node, std::memory_order_acq_rel);
  prev->next.store(node, std::memory_order_release);  // release: the runner acquires the task
}

void strand_state::push(strand_node* node, reservation r) {
  link(node);
  // acq_rel: seeing 0 orders us after the last runner's final fetch_sub (release), so the
  // runner we schedule sees everything the strand's earlier tasks did.
  if (count_.fetch_add(1, std::memory_order_acq_rel) != 0) {
    release_slot(core, r);  // a runner exists and will reach our node
    return;
  }
  // If the injector cannot take the runner, destroying it drops what is queued (errors.md).
  submit_callable(core, r, strand_runner(shared_from_this()), nullptr, prio);
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
  strand_node* done_first = nullptr;  // the nodes run, newest first, for give_back
  strand_node* done_last = nullptr;
  for (; n < limit; ++n) {
    // Once shutdown(cancel) began, stop: the runner queued next is discarded with the rest.
    if (n != 0 && core.canceling()) break;
    strand_node* node = pop_wait();
    if (n != 0) worker_counters::bump(w->counters.begun);  // the runner counted the first
    try {
      node->item.run();
    } catch (...) {
      worker_counters::bump(w->counters.exceptions);
      core.report_detached_exception(std::current_exception());
    }
    if (n != 0) worker_counters::bump(w->counters.ran);
    node->next.store(done_first, std::memory_order_relaxed);  // relaxed: ours alone now
    if (done_first == nullptr) done_last = node;
    done_first = node;
  }
  give_back(done_first, done_last, n);
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
        node->item.reset();
        first = false;
      } else {
        core.discard_held(node->item, prio);
      }
    }
    if (count_.fetch_sub(avail, std::memory_order_acq_rel) == avail) return;  // as run_batch
  }
}

}  // namespace magpie::detail

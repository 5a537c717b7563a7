#include "injector.hpp"

#include <vector>

namespace magpie::detail {
namespace {

// Per-thread cache of producers, one per injector this thread has submitted to.
class producer_cache {
 public:
  struct entry {
    std::shared_ptr<producer_registry> registry;
    std::list<producer>::iterator it;
  };

  ~producer_cache() {
    for (auto& e : entries_)
      release(e);
  }

  producer* find(const producer_registry* r) noexcept {
    if (last_ < entries_.size() && entries_[last_].registry.get() == r) return &*entries_[last_].it;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].registry.get() == r) {
        last_ = i;
        return &*entries_[i].it;
      }
    }
    return nullptr;
  }

  producer& add(const std::shared_ptr<producer_registry>& r,
                std::array<injector::queue, lane_count>& q) {
    prune();
    std::lock_guard lock(r->mu);
    r->producers.emplace_back(q);
    entries_.push_back({r, std::prev(r->producers.end())});
    last_ = entries_.size() - 1;
    return r->producers.back();
  }

 private:
  static void release(entry& e) {
    std::lock_guard lock(e.registry->mu);
    // Destroying the token marks its producer slot reusable; only while the queue exists.
    if (e.registry->alive) e.registry->producers.erase(e.it);
  }
  // Forget runtimes that are gone, so a long-lived thread does not accumulate them.
  void prune() {
    std::erase_if(entries_, [](entry& e) {
      std::lock_guard lock(e.registry->mu);
      return !e.registry->alive;
    });
  }

  std::vector<entry> entries_;
  std::size_t last_ = 0;
};

thread_local producer_cache tls_producers;

}  // namespace

injector::injector(std::atomic<std::int64_t>& urgent)
    : queues_{{queue(injector::batch * 32), queue(injector::batch * 32),
               queue(injector::batch * 32)}},
      urgent_(&urgent) {}

injector::~injector() {
  std::lock_guard lock(registry_->mu);
  registry_->producers.clear();  // while queue_ is still alive
  registry_->alive = false;
}

producer& injector::this_thread_producer() {
  if (producer* p = tls_producers.find(registry_.get())) return *p;
  return tls_producers.add(registry_, queues_);
}

bool injector::submits_in_flight() {
  std::lock_guard lock(registry_->mu);
  for (const producer& p : registry_->producers) {
    // seq_cst: shutdown's half of the Dekker pair with a submitter's increment (runtime_core).
    if (p.in_flight.load(std::memory_order_seq_cst) != 0) return true;
  }
  return false;
}

bool injector::try_take_capacity(std::size_t max) noexcept {
  // seq_cst: pairs with the room-waiter protocol in runtime_core::take_capacity.
  if (pending_.fetch_add(1, std::memory_order_seq_cst) < static_cast<std::int64_t>(max))
    return true;
  pending_.fetch_sub(1, std::memory_order_seq_cst);
  return false;
}

void injector::force_take_capacity() noexcept {
  // seq_cst: as try_take_capacity.
  pending_.fetch_add(1, std::memory_order_seq_cst);
}

void injector::give_capacity(std::size_t n) noexcept {
  // seq_cst: a worker then reads the room-waiter count (Dekker with take_capacity).
  pending_.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_seq_cst);
}

}  // namespace magpie::detail

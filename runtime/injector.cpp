#include "injector.hpp"

#include <vector>

namespace magpie::detail {
namespace {

// Per-thread cache of producer tokens, one per injector this thread has submitted to.
class token_cache {
 public:
  struct entry {
    std::shared_ptr<token_registry> registry;
    std::list<moodycamel::ProducerToken>::iterator token;
  };

  ~token_cache() {
    for (auto& e : entries_)
      release(e);
  }

  moodycamel::ProducerToken* find(const token_registry* r) noexcept {
    if (last_ < entries_.size() && entries_[last_].registry.get() == r)
      return &*entries_[last_].token;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].registry.get() == r) {
        last_ = i;
        return &*entries_[i].token;
      }
    }
    return nullptr;
  }

  moodycamel::ProducerToken& add(const std::shared_ptr<token_registry>& r, injector::queue& q) {
    prune();
    std::lock_guard lock(r->mu);
    r->tokens.emplace_back(q);
    entries_.push_back({r, std::prev(r->tokens.end())});
    last_ = entries_.size() - 1;
    return r->tokens.back();
  }

 private:
  static void release(entry& e) {
    std::lock_guard lock(e.registry->mu);
    // Destroying the token marks its producer slot reusable; only while the queue exists.
    if (e.registry->alive) e.registry->tokens.erase(e.token);
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

thread_local token_cache tls_tokens;

}  // namespace

injector::injector() : queue_(injector::batch * 32) {}

injector::~injector() {
  std::lock_guard lock(registry_->mu);
  registry_->tokens.clear();  // while queue_ is still alive
  registry_->alive = false;
}

bool injector::try_reserve(std::size_t max) noexcept {
  // seq_cst: pairs with shutdown's store of `closed` then load of pending (Dekker): either the
  // submitter sees closed, or shutdown sees this reservation and waits for it.
  const std::int64_t before = pending_.fetch_add(1, std::memory_order_seq_cst);
  if (max != 0 && before >= static_cast<std::int64_t>(max)) {
    unreserve();
    return false;
  }
  return true;
}

void injector::unreserve() noexcept {
  pending_.fetch_sub(1, std::memory_order_seq_cst);
}

moodycamel::ProducerToken& injector::token_for_this_thread() {
  if (auto* t = tls_tokens.find(registry_.get())) return *t;
  return tls_tokens.add(registry_, queue_);
}

bool injector::push(task* t) {
  return queue_.enqueue(token_for_this_thread(), t);
}

std::size_t injector::pop_bulk(moodycamel::ConsumerToken& tok, task** out,
                               std::size_t max) noexcept {
  const std::size_t n = queue_.try_dequeue_bulk(tok, out, max);
  // seq_cst: shutdown and parking read pending in Dekker patterns (see try_reserve).
  if (n != 0) pending_.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_seq_cst);
  return n;
}

}  // namespace magpie::detail

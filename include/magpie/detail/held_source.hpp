// Something that holds tasks a runtime accepted outside its queues: a semaphore's waiting tasks,
// a strand's queued tasks. Each registers with its runtime (runtime/held_registry.hpp) so that
// runtime::stats() can count what it holds.
#pragma once

#include <cstdint>

namespace magpie::detail {

struct held_source {
  enum class kind : unsigned char { semaphore, strand };
  explicit held_source(kind k) noexcept : what(k) {}
  held_source(const held_source&) = delete;
  held_source& operator=(const held_source&) = delete;

  /// Tasks held now (approximate while they come and go). Never blocks.
  virtual std::uint64_t held() const noexcept = 0;

  const kind what;
  // The registry's intrusive list, guarded by the registry's mutex.
  held_source* listed_prev = nullptr;
  held_source* listed_next = nullptr;

 protected:
  ~held_source() = default;  // never deleted through this base
};

}  // namespace magpie::detail

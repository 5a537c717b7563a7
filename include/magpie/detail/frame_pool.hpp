// Per-worker cache of coroutine frames (magpie/coro.hpp), so that a steady-state coroutine
// fork-join program does not call malloc per frame. Frames are rounded up to a size class, so a
// block can be freed into whichever worker's cache finishes it, or to the global heap by a thread
// that is not a worker: any block of a class is interchangeable with any other, and no frame
// needs to record where it came from. Owner-only, like task_pool.
#pragma once

#include <array>
#include <cstddef>
#include <new>

namespace magpie::detail {

class frame_pool {
 public:
  static constexpr std::size_t granule = 64;
  static constexpr std::size_t classes = 16;  // frames up to 1 KiB are cached
  // Per class; a pool holds at most 64 KiB * (1 + 2 + ... + 16) = 8.5 MiB if every class fills.
  static constexpr std::size_t max_cached = 1024;

  frame_pool() = default;
  frame_pool(const frame_pool&) = delete;
  frame_pool& operator=(const frame_pool&) = delete;
  ~frame_pool() {
    for (std::size_t c = 0; c < classes; ++c) {
      while (heads_[c] != nullptr) {
        free_block* b = heads_[c];
        heads_[c] = b->next;
        ::operator delete(b);
      }
    }
  }

  /// The size a frame of n bytes is allocated with (its class's block size, or n if too big).
  static constexpr std::size_t rounded(std::size_t n) noexcept {
    return n <= granule * classes ? (n + granule - 1) / granule * granule : n;
  }
  /// A block of rounded(n) bytes from the global heap (threads that are not workers).
  static void* allocate_unpooled(std::size_t n) { return ::operator new(rounded(n)); }

  void* allocate(std::size_t n) {
    const std::size_t c = class_of(n);
    if (c < classes && heads_[c] != nullptr) {
      free_block* b = heads_[c];
      heads_[c] = b->next;
      --counts_[c];
      return b;
    }
    return allocate_unpooled(n);
  }
  /// Keeps a block of a frame of n bytes (from any pool or allocate_unpooled).
  void release(void* p, std::size_t n) noexcept {
    const std::size_t c = class_of(n);
    if (c >= classes || counts_[c] == max_cached) {
      ::operator delete(p);
      return;
    }
    heads_[c] = ::new (p) free_block{heads_[c]};
    ++counts_[c];
  }

 private:
  struct free_block {
    free_block* next;
  };
  static constexpr std::size_t class_of(std::size_t n) noexcept {
    return n == 0 ? 0 : (n - 1) / granule;  // >= classes: not cached
  }

  std::array<free_block*, classes> heads_{};
  std::array<std::size_t, classes> counts_{};
};

}  // namespace magpie::detail

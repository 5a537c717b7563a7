// task_pool on its own: a released block is the next one handed out, reserve makes the next
// allocations free of the global allocator, the cache stops at max_cached and frees the rest,
// and a block made by one thread's pool and released on another joins the releasing thread's
// pool (the runner's, as a stolen task's block does). Under AddressSanitizer, every pool's
// destructor must free what it kept (a leak fails the run). This binary replaces the global
// operator new to count every call.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "count_allocations.hpp"
#include "magpie/detail/task_pool.hpp"

namespace {

using magpie::detail::build_task;
using magpie::detail::task;
using magpie::detail::task_pool;
using magpie::test::allocations;

// A task holding a reference on `alive`, so a test can tell whether its callable was destroyed.
task* holding(task_pool& pool, const std::shared_ptr<int>& alive) {
  task* t = pool.allocate();
  build_task(
      *t, [alive] {}, nullptr);
  return t;
}

}  // namespace

TEST_CASE("a released block is the next one allocated, and its callable is destroyed" *
          doctest::timeout(120)) {
  task_pool pool;
  auto alive = std::make_shared<int>(0);
  task* t = holding(pool, alive);
  CHECK(alive.use_count() == 2);
  pool.release(t);  // never ran: release destroys the callable
  CHECK(alive.use_count() == 1);
  const std::uint64_t before = allocations.load();
  task* again = pool.allocate();
  const std::uint64_t reused = allocations.load() - before;
  CHECK(reused == 0);
  CHECK(again == t);
  CHECK(again->ops == nullptr);  // an empty task
  t = holding(pool, alive);
  CHECK(t != again);  // `again` still holds its block: a fresh one
  t->run();           // running destroys the callable; the block stays with the caller
  CHECK(alive.use_count() == 1);
  pool.release_empty(t);
  pool.release_empty(again);
  task* first = pool.allocate();
  task* second = pool.allocate();
  CHECK(first == again);  // last in, first out: the warmest block
  CHECK(second == t);
  pool.release_empty(first);  // back to the pool, which frees them (a leak otherwise, under ASan)
  pool.release_empty(second);
}

TEST_CASE("after reserve(n) the next n allocations do not call operator new" *
          doctest::timeout(120)) {
  // Counts are read into locals: a doctest check may allocate.
  task_pool pool;
  pool.reserve(16);
  std::vector<task*> got;
  got.reserve(17);
  const std::uint64_t before = allocations.load();
  for (int i = 0; i < 16; ++i)
    got.push_back(pool.allocate());
  const std::uint64_t reserved = allocations.load() - before;
  got.push_back(pool.allocate());  // the cache is empty now
  const std::uint64_t beyond = allocations.load() - before;
  for (task* t : got)
    pool.release_empty(t);
  pool.reserve(4);  // already holds 17: nothing to add
  const std::uint64_t after_reserve = allocations.load() - before;
  CHECK(reserved == 0);
  CHECK(beyond == 1);
  CHECK(after_reserve == 1);
}

TEST_CASE("the cache keeps max_cached blocks and frees the ones beyond" * doctest::timeout(120)) {
  task_pool pool;
  std::vector<task*> blocks;
  for (std::size_t i = 0; i < task_pool::max_cached + 10; ++i)
    blocks.push_back(pool.allocate());
  for (task* t : blocks)
    pool.release_empty(t);  // the last 10 go back to the heap (a leak otherwise, under ASan)
  const std::uint64_t before = allocations.load();
  bool kept_in_order = true;
  for (std::size_t i = task_pool::max_cached; i-- > 0;)
    kept_in_order = kept_in_order && pool.allocate() == blocks[i];  // last released first
  const std::uint64_t from_cache = allocations.load() - before;
  task* fresh = pool.allocate();
  const std::uint64_t beyond = allocations.load() - before;
  CHECK(kept_in_order);
  CHECK(from_cache == 0);
  CHECK(beyond == 1);
  for (std::size_t i = 0; i < task_pool::max_cached; ++i)
    pool.release_empty(blocks[i]);
  pool.release_empty(fresh);  // beyond max_cached again: freed at once
}

TEST_CASE("a block made by one thread's pool joins the pool of the thread that releases it" *
          doctest::timeout(60)) {
  task_pool owner;
  auto alive = std::make_shared<int>(0);
  std::vector<task*> made;
  constexpr std::size_t count = task_pool::max_cached + 100;
  for (std::size_t i = 0; i < count; ++i)
    made.push_back(holding(owner, alive));
  std::uint64_t reused_allocations = 0;
  bool reused_in_order = true;
  std::thread runner([&] {  // joined before `made` is read again: it owns the tasks meanwhile
    task_pool pool;
    for (task* t : made) {
      t->run();
      pool.release_empty(t);
    }
    const std::uint64_t before = allocations.load();
    for (std::size_t i = task_pool::max_cached; i-- > 0;)
      reused_in_order = reused_in_order && pool.allocate() == made[i];
    reused_allocations = allocations.load() - before;
    for (std::size_t i = 0; i < task_pool::max_cached; ++i)
      pool.release_empty(made[i]);
  });  // the runner's pool frees its blocks as the thread ends
  runner.join();
  CHECK(reused_in_order);
  CHECK(reused_allocations == 0);
  CHECK(alive.use_count() == 1);  // every callable was run and destroyed once
  task* t = owner.allocate();     // the owner kept none of them: a new block
  owner.release_empty(t);
}

TEST_CASE("release_unpooled destroys the callable and frees the block" * doctest::timeout(120)) {
  task_pool pool;
  auto alive = std::make_shared<int>(0);
  task* t = holding(pool, alive);
  task_pool::release_unpooled(t);  // a leak or a double free shows under ASan
  CHECK(alive.use_count() == 1);
}

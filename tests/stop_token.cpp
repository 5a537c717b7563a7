// task_group::stop_token and this_task::stop_token: stopped by the group's own cancel, by an
// ancestor's cancel made before or after the token, by a task's exception; outliving the group.
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <stop_token>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

TEST_CASE("a group's token is stopped by cancel(), and every call shares one source" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  task_group g(rt);
  const std::stop_token a = g.stop_token();
  const std::stop_token b = g.stop_token();
  CHECK(a.stop_possible());
  CHECK_FALSE(a.stop_requested());
  CHECK(a == b);
  std::atomic<int> callbacks{0};
  const std::stop_callback cb(a, [&] { callbacks.fetch_add(1); });
  g.cancel();
  CHECK(a.stop_requested());
  CHECK(b.stop_requested());
  CHECK(callbacks == 1);
  CHECK(g.stop_token().stop_requested());  // cancel() is final
}

TEST_CASE("a task polls the token it was given until the group is canceled" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  task_group g(rt);
  gate started;
  std::atomic<bool> saw_stop{false};
  g.spawn([&started, &saw_stop, token = g.stop_token()] {
    started.entered.store(true);
    started.entered.notify_all();
    while (!token.stop_requested()) {
    }
    saw_stop = true;
  });
  started.wait_entered();
  g.cancel();
  g.wait();
  CHECK(saw_stop);
}

TEST_CASE("an ancestor canceled before the token was made stops it at once" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  task_group outer(rt);
  gate running;
  std::atomic<bool> stopped{false};
  outer.spawn([&] {
    running.pass();        // the test thread cancels outer while we wait here
    task_group inner(rt);  // a child of outer: made inside its task, after the cancel
    stopped = inner.stop_token().stop_requested();
    inner.wait();
  });
  running.wait_entered();
  outer.cancel();
  running.release();
  outer.wait();
  CHECK(stopped);
}

TEST_CASE("an ancestor canceled after the token was made stops it, two levels down" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  task_group outer(rt);
  gate made;
  std::atomic<bool> stopped{false};
  std::atomic<int> callbacks{0};
  outer.spawn([&] {
    task_group middle(rt);
    middle.run_and_wait([&] {
      task_group inner(rt);  // a grandchild of outer
      const std::stop_token token = inner.stop_token();
      const std::stop_callback cb(token, [&] { callbacks.fetch_add(1); });
      made.pass();  // the test thread cancels outer while we wait here
      stopped = token.stop_requested();
      inner.wait();
    });
  });
  made.wait_entered();
  CHECK_FALSE(outer.is_canceled());
  outer.cancel();
  made.release();
  outer.wait();
  CHECK(stopped);
  CHECK(callbacks == 1);
}

TEST_CASE("a sibling tree's cancel does not stop the token" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  task_group a(rt);
  task_group b(rt);
  const std::stop_token ta = a.stop_token();
  b.cancel();
  CHECK_FALSE(ta.stop_requested());
  a.cancel();
  CHECK(ta.stop_requested());
}

TEST_CASE("a task's exception stops the token; the reused group hands out a fresh one" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  task_group g(rt);
  const std::stop_token before = g.stop_token();
  g.spawn([] { throw std::runtime_error("boom"); });
  CHECK_THROWS_WITH_AS(g.wait(), "boom", std::runtime_error);
  CHECK(before.stop_requested());  // a token stays stopped
  const std::stop_token after = g.stop_token();
  CHECK_FALSE(after.stop_requested());
  CHECK(after.stop_possible());
  g.cancel();
  CHECK(after.stop_requested());
}

TEST_CASE("a token outlives its group and keeps its answer" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  std::stop_token live;
  std::stop_token stopped;
  {
    task_group g(rt);
    live = g.stop_token();
    task_group h(rt);
    stopped = h.stop_token();
    h.cancel();
  }
  CHECK_FALSE(live.stop_requested());
  CHECK_FALSE(live.stop_possible());  // its source is gone: no stop can come any more
  CHECK(stopped.stop_requested());
}

TEST_CASE("many tokens across a tree, made while it is being canceled" * doctest::timeout(120)) {
  runtime rt(with_workers(4));
  for (int round = 0; round < 50; ++round) {
    task_group root(rt);
    std::atomic<int> made{0};
    std::atomic<int> stopped{0};
    for (int i = 0; i < 8; ++i) {
      root.spawn([&] {
        task_group child(rt);
        std::stop_token t = child.stop_token();  // may race with root.cancel()
        made.fetch_add(1);
        // The cancel reaches the token however the race went: wait for it.
        while (!t.stop_requested()) {
        }
        stopped.fetch_add(1);
        child.wait();
      });
    }
    root.cancel();
    root.wait();
    CHECK(stopped == made);
  }
}

namespace {

task<bool> stops_seen(std::atomic<bool>& started) {
  const std::stop_token t = co_await this_task::stop_token();
  started = true;
  started.notify_all();
  while (!t.stop_requested()) {
  }
  co_return true;
}

}  // namespace

TEST_CASE("a coroutine's this_task::stop_token is its group's" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  task_group g(rt);
  std::atomic<bool> started{false};
  std::atomic<bool> saw{false};
  auto body = [&]() -> task<void> {
    auto [s] = co_await when_all(stops_seen(started));  // the scope is inherited
    saw = s;
  };
  g.spawn(body());
  started.wait(false);
  g.cancel();
  g.wait();
  CHECK(saw);
  // Outside any group: an empty token.
  auto outside = []() -> task<bool> {
    co_return (co_await this_task::stop_token()).stop_possible();
  };
  CHECK_FALSE(sync_wait(rt, outside()));
}

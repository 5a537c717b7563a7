// Bad input: every invalid configuration or call gets a clear error naming what is wrong.
#include "magpie/magpie.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

using namespace magpie;

namespace {

// The message of the std::invalid_argument thrown by constructing a runtime with `c`.
std::string ctor_error(const config& c) {
  try {
    runtime rt(c);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a huge worker count is rejected naming config.workers") {
  config c;
  c.workers = 100000;
  CHECK(contains(ctor_error(c), "config.workers"));
}

TEST_CASE("a spin budget out of range is rejected naming config.spin") {
  config c;
  c.spin = std::chrono::seconds(5);
  CHECK(contains(ctor_error(c), "config.spin"));
  c.spin = std::chrono::microseconds(-1);
  CHECK(contains(ctor_error(c), "config.spin"));
}

TEST_CASE("an unavailable CPU index is rejected naming config.cpus and the CPU") {
  config c;
  c.cpus = {0, 4000};
  const std::string e = ctor_error(c);
  CHECK(contains(e, "config.cpus"));
  CHECK(contains(e, "4000"));
}

TEST_CASE("a malformed synthetic topology is rejected naming config.synthetic_topology") {
  config c;
  c.synthetic_topology = "package:banana";
  CHECK(contains(ctor_error(c), "config.synthetic_topology"));
}

TEST_CASE("a negative stall threshold and a trace capacity out of range are rejected by name") {
  config c;
  c.stall_threshold = std::chrono::milliseconds(-1);
  CHECK(contains(ctor_error(c), "config.stall_threshold"));
  c = config{};
  c.trace = true;
  c.trace_capacity = 0;
  CHECK(contains(ctor_error(c), "config.trace_capacity"));
  c.trace_capacity = std::size_t{1} << 27;
  CHECK(contains(ctor_error(c), "config.trace_capacity"));
}

TEST_CASE("empty callables are rejected by submit, try_submit and spawn") {
  config c;
  c.workers = 1;
  runtime rt(c);
  std::function<void()> empty;
  void (*null_fn)() = nullptr;
  CHECK_THROWS_WITH_AS(rt.submit(empty), "magpie::runtime::submit: empty callable",
                       std::invalid_argument);
  CHECK_THROWS_AS(rt.submit(null_fn), std::invalid_argument);
  CHECK_THROWS_AS(rt.try_submit(empty), std::invalid_argument);
  task_group g(rt);
  CHECK_THROWS_AS(g.spawn(empty), std::invalid_argument);
  const shutdown_report r = rt.shutdown();
  CHECK(r.ran == 0);  // nothing half-accepted
}

TEST_CASE("shutdown from one of the runtime's own workers is a logic_error") {
  config c;
  c.workers = 1;
  runtime rt(c);
  std::string msg;
  task_group g(rt);
  g.spawn([&] {
    try {
      rt.shutdown();
    } catch (const std::logic_error& e) {
      msg = e.what();
    }
  });
  g.wait();
  CHECK(contains(msg, "own workers"));
}

TEST_CASE("explicit cpus place workers on exactly those CPUs") {
  config c;
  c.cpus = {0};
  c.workers = 2;
  runtime rt(c);
  CHECK(rt.worker_count() == 2);
  CHECK(rt.worker_cpus() == std::vector<int>{0, 0});
}

TEST_CASE("pinning none leaves workers unbound") {
  config c;
  c.workers = 2;
  c.pin = pinning::none;
  runtime rt(c);
  CHECK(rt.worker_cpus() == std::vector<int>{-1, -1});
}

TEST_CASE("a callable whose copy throws is not accepted, and nothing leaks") {
  struct throws_on_copy {
    throws_on_copy() = default;
    throws_on_copy(const throws_on_copy&) { throw std::runtime_error("copy failed"); }
    void operator()() const {}
  };
  config c;
  c.workers = 1;
  runtime rt(c);
  const throws_on_copy f;
  CHECK_THROWS_WITH_AS(rt.submit(f), "copy failed", std::runtime_error);
  CHECK_THROWS_AS(rt.try_submit(f), std::runtime_error);
  task_group g(rt);
  CHECK_THROWS_AS(g.spawn(f), std::runtime_error);
  CHECK_NOTHROW(g.wait());  // the refused spawn was never counted
  CHECK(rt.shutdown().ran == 0);
}

TEST_CASE("a task_group destroyed without wait waits for its tasks") {
  config c;
  c.workers = 2;
  runtime rt(c);
  std::atomic<int> n{0};
  {
    task_group g(rt);
    for (int i = 0; i < 1000; ++i)
      g.spawn([&] { n.fetch_add(1); });
  }
  CHECK(n.load() == 1000);
}

TEST_CASE("a submit blocked on a full injector gives up with runtime_closed at shutdown") {
  config c;
  c.workers = 1;
  c.max_pending = 1;
  runtime rt(c);
  std::atomic<bool> open{false}, entered{false};
  rt.submit([&] {
    entered.store(true);
    entered.notify_one();
    open.wait(false);
  });
  entered.wait(false);
  rt.submit([] {});  // fills the injector
  std::atomic<bool> threw{false};
  std::thread blocked([&] {
    try {
      rt.submit([] {});  // no room: blocks until shutdown closes the runtime
    } catch (const runtime_closed&) {
      threw.store(true);
    }
  });
  std::thread closer([&] { rt.shutdown(); });
  blocked.join();  // returns only through the runtime_closed path (nothing else frees room)
  open.store(true);
  open.notify_one();
  closer.join();
  CHECK(threw.load());
}

// Bad input: every invalid configuration or call gets a clear error naming what is wrong.
#include "magpie/magpie.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_support.hpp"

using namespace magpie;
using magpie::test::with_workers;

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

TEST_CASE("a huge worker count is rejected naming config.workers" * doctest::timeout(120)) {
  config c;
  c.workers = 100000;
  CHECK(contains(ctor_error(c), "config.workers"));
}

TEST_CASE("a spin budget out of range is rejected naming config.spin" * doctest::timeout(120)) {
  config c;
  c.spin = std::chrono::seconds(5);
  CHECK(contains(ctor_error(c), "config.spin"));
  c.spin = std::chrono::microseconds(-1);
  CHECK(contains(ctor_error(c), "config.spin"));
}

TEST_CASE("an unavailable CPU index is rejected naming config.cpus and the CPU" *
          doctest::timeout(120)) {
  config c;
  c.cpus = {0, 4000};
  const std::string e = ctor_error(c);
  CHECK(contains(e, "config.cpus"));
  CHECK(contains(e, "4000"));
}

TEST_CASE("a malformed synthetic topology is rejected naming config.synthetic_topology" *
          doctest::timeout(120)) {
  config c;
  c.synthetic_topology = "package:banana";
  CHECK(contains(ctor_error(c), "config.synthetic_topology"));
}

TEST_CASE("config rejects a starvation limit below 2 and more latency workers than workers" *
          doctest::timeout(120)) {
  magpie::config c = with_workers(2);
  c.starvation_limit = 1;
  CHECK_THROWS_WITH_AS(magpie::runtime{c}, doctest::Contains("starvation_limit"),
                       std::invalid_argument);
  c = with_workers(2);
  c.latency_workers = 3;
  CHECK_THROWS_WITH_AS(magpie::runtime{c}, doctest::Contains("latency_workers"),
                       std::invalid_argument);
}

TEST_CASE("a negative stall threshold and a trace capacity out of range are rejected by name" *
          doctest::timeout(120)) {
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

TEST_CASE("empty callables are rejected by submit, try_submit and spawn" * doctest::timeout(120)) {
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

TEST_CASE("shutdown from one of the runtime's own workers is a logic_error" *
          doctest::timeout(120)) {
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

TEST_CASE("explicit cpus place workers on exactly those CPUs" * doctest::timeout(120)) {
  config c;
  c.cpus = {0};
  c.workers = 2;
  runtime rt(c);
  CHECK(rt.worker_count() == 2);
  CHECK(rt.worker_cpus() == std::vector<int>{0, 0});
}

TEST_CASE("pinning none leaves workers unbound" * doctest::timeout(120)) {
  config c;
  c.workers = 2;
  c.pin = pinning::none;
  runtime rt(c);
  CHECK(rt.worker_cpus() == std::vector<int>{-1, -1});
}

TEST_CASE("a callable whose copy throws is not accepted, and nothing leaks" *
          doctest::timeout(120)) {
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

// Every numeric and duration field of config at its extremes (0, 1, the largest and smallest
// values of its type, and the edges of its range): a std::invalid_argument naming the field,
// or a runtime that works. Under the asan preset UBSan checks each unit conversion on the way.
TEST_CASE("config.workers at its extremes" * doctest::timeout(120)) {
  config c;
  c.workers = std::numeric_limits<std::size_t>::max();
  CHECK(contains(ctor_error(c), "config.workers: 18446744073709551615 exceeds the limit of 4096"));
  c.workers = 4097;
  CHECK(contains(ctor_error(c), "config.workers"));
  c.workers = 1;
  CHECK(runtime(c).worker_count() == 1);
  c.workers = 0;
  CHECK(runtime(c).worker_count() >= 1);
}

TEST_CASE("config.max_workers at its extremes" * doctest::timeout(120)) {
  config c;
  c.workers = 2;
  c.max_workers = 1;
  CHECK(contains(ctor_error(c), "config.max_workers: 1 is below the worker count 2"));
  c.max_workers = 4097;
  CHECK(contains(ctor_error(c), "config.max_workers: 4097 exceeds the limit of 4096"));
  c.max_workers = std::numeric_limits<std::size_t>::max();
  CHECK(contains(ctor_error(c), "config.max_workers"));
  c.max_workers = 0;  // the same as workers
  {
    runtime rt(c);
    CHECK(rt.worker_count() == 2);
    CHECK(rt.active_workers() == 2);
  }
  c.max_workers = 2;
  CHECK(runtime(c).worker_count() == 2);
  c.max_workers = 3;
  {
    runtime rt(c);
    CHECK(rt.worker_count() == 3);
    CHECK(rt.active_workers() == 2);
  }
  // workers = 0 resolves to one per PU first; a smaller max_workers names both.
  c.workers = 0;
  c.synthetic_topology = "pu:4";
  c.max_workers = 3;
  CHECK(contains(ctor_error(c),
                 "config.max_workers: 3 is below the worker count 4 "
                 "(config.workers 0: one per processing unit)"));
  c.max_workers = 5;
  {
    runtime rt(c);
    CHECK(rt.worker_count() == 5);
    CHECK(rt.active_workers() == 4);
  }
}

TEST_CASE("config.spin and set_spin at their extremes, checked in microseconds" *
          doctest::timeout(120)) {
  using us = std::chrono::microseconds;
  config c;
  c.workers = 1;
  for (const us bad : {us::min(), us::max(), us(-1), us(1'000'001), us(-1000)}) {
    c.spin = bad;
    const std::string e = ctor_error(c);
    CHECK(contains(
        e, "config.spin: must be between 0 and 1 s, got " + std::to_string(bad.count()) + " us"));
  }
  for (const us good : {us(0), us(1), us(1'000'000)}) {
    c.spin = good;
    CHECK(ctor_error(c) == "no error");
  }
  c.spin = us(50);
  runtime rt(c);
  for (const us bad : {us::min(), us::max(), us(-1), us(1'000'001)}) {
    CHECK_THROWS_WITH_AS(rt.set_spin(bad),
                         ("magpie::runtime::set_spin: must be between 0 and 1 s, got " +
                          std::to_string(bad.count()) + " us")
                             .c_str(),
                         std::invalid_argument);
  }
  CHECK_NOTHROW(rt.set_spin(us(0)));
  CHECK_NOTHROW(rt.set_spin(us(1'000'000)));
}

TEST_CASE("config.stall_threshold at its extremes" * doctest::timeout(120)) {
  using ms = std::chrono::milliseconds;
  config c;
  c.workers = 1;
  for (const ms bad : {ms::min(), ms::max(), ms(-1), std::chrono::hours(24) + ms(1)}) {
    c.stall_threshold = bad;
    CHECK(contains(ctor_error(c), "config.stall_threshold: must be between 0 and 86400000 ms"));
  }
  for (const ms good : {ms(0), ms(1), ms(std::chrono::hours(24))}) {
    c.stall_threshold = good;
    runtime rt(c);
    std::atomic<int> ran{0};
    rt.submit([&] { ran.fetch_add(1); });
    CHECK(rt.shutdown().ran == 1);
  }
}

TEST_CASE("config.starvation_limit, latency_workers and trace_capacity at their extremes" *
          doctest::timeout(120)) {
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  config c;
  c.workers = 1;
  for (const std::size_t bad : {std::size_t{0}, std::size_t{1}, (std::size_t{1} << 20) + 1, max}) {
    c.starvation_limit = bad;
    CHECK(contains(ctor_error(c), "config.starvation_limit"));
  }
  for (const std::size_t good : {std::size_t{2}, std::size_t{1} << 20}) {
    c.starvation_limit = good;
    CHECK(ctor_error(c) == "no error");
  }
  c = config{};
  c.workers = 1;
  c.latency_workers = max;
  CHECK(contains(ctor_error(c), "config.latency_workers"));
  c.latency_workers = 2;
  CHECK(contains(ctor_error(c), "config.latency_workers: 2 exceeds the worker count 1"));
  c.latency_workers = 1;
  CHECK(ctor_error(c) == "no error");
  c = config{};
  c.workers = 1;
  c.trace = true;
  for (const std::size_t bad : {std::size_t{0}, (std::size_t{1} << 26) + 1, max}) {
    c.trace_capacity = bad;
    CHECK(contains(ctor_error(c), "config.trace_capacity"));
  }
  c.trace_capacity = 1;
  CHECK(ctor_error(c) == "no error");
  c.trace = false;
  c.trace_capacity = max;  // unused while tracing is off
  CHECK(ctor_error(c) == "no error");
}

TEST_CASE("config.max_pending of SIZE_MAX or 2^63 is unbounded, not a bound of -1" *
          doctest::timeout(120)) {
  for (const std::size_t unbounded :
       {std::numeric_limits<std::size_t>::max(), std::size_t{1} << 63, std::size_t{0}}) {
    config c;
    c.workers = 1;
    c.max_pending = unbounded;
    runtime rt(c);
    test::gate stuck;
    stuck.occupy(rt);
    std::atomic<int> ran{0};
    int accepted = 0;
    for (int i = 0; i < 1000; ++i)
      accepted += rt.try_submit([&] { ran.fetch_add(1); }) ? 1 : 0;
    CHECK(accepted == 1000);
    CHECK(rt.submit_for([&] { ran.fetch_add(1); }, std::chrono::seconds(60)));
    stuck.release();
    CHECK(rt.shutdown().ran == 1002);
    CHECK(ran.load() == 1001);
  }
  config c;
  c.workers = 1;
  c.max_pending = 1;  // the smallest bound
  runtime rt(c);
  test::gate stuck;
  stuck.occupy(rt);
  CHECK(rt.try_submit([] {}));
  CHECK_FALSE(rt.try_submit([] {}));
  stuck.release();
}

TEST_CASE("a described machine is bounded: no more than 4096 PUs or 1024 children per parent" *
          doctest::timeout(120)) {
  config c;
  c.synthetic_topology = "pu:5000";
  CHECK(contains(ctor_error(c), "config.synthetic_topology: a level with more than 1024"));
  c.synthetic_topology = "pack:1000 pu:1000";  // hwloc alone would take minutes
  CHECK(contains(ctor_error(c), "config.synthetic_topology: more than 4096 processing units"));
  c.synthetic_topology = "pack:4 core:32 pu:64";
  CHECK(contains(ctor_error(c), "more than 4096 processing units"));
  c.synthetic_topology = "pack:2 core:4(memory=1000000) pu:2";  // attributes are skipped
  c.workers = 2;
  CHECK(ctor_error(c) == "no error");
}

TEST_CASE("explicit cpus on a described machine are an error, not a silent no-op" *
          doctest::timeout(120)) {
  config c;
  c.synthetic_topology = "pu:8";
  c.cpus = {5};
  const std::string e = ctor_error(c);
  CHECK(contains(e, "config.cpus: explicit CPUs need this machine's topology"));
  CHECK(contains(e, "config.synthetic_topology"));
}

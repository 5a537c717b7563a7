// config.trace and runtime::write_chrome_trace: the file is Chrome Trace Event JSON whose events
// match what the workers did (checked with python3's json module).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "magpie/magpie.hpp"
#include "python_check.hpp"
#include "test_support.hpp"

namespace {

using magpie::test::with_workers;

std::uint64_t fib(magpie::runtime& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t a = 0;
  magpie::task_group g(rt);
  g.spawn([&rt, &a, n] { a = fib(rt, n - 1); });
  const std::uint64_t b = fib(rt, n - 2);
  g.wait();
  return a + b;
}

// A fork-join tree (tasks that wait on groups run others inside them: nested events) and 300
// detached tasks in all three lanes.
void known_work(magpie::runtime& rt) {
  std::latch done(301);
  std::atomic<std::uint64_t> r{0};
  rt.submit([&] {
    r.store(fib(rt, 14));
    done.count_down();
  });
  for (int i = 0; i < 300; ++i)
    rt.submit([&] { done.count_down(); }, static_cast<magpie::priority>(i % 3));
  done.wait();
  CHECK(r.load() == 377);
}

struct totals {
  std::uint64_t tasks = 0, steals = 0, parks = 0, wakeups = 0;
};
totals sum(const magpie::runtime_stats& s) {
  totals t;
  for (const auto& w : s.workers) {
    t.tasks += w.tasks_run;
    t.steals += w.stolen;
    t.parks += w.parks;
    t.wakeups += w.wakeups;
  }
  return t;
}

// Shared checks: structure, names, dur >= 0, per-worker proper nesting of tasks (exact: the
// writer rounds every end point to whole nanoseconds the same way), steal victims.
const char* const check_trace = R"(
import json, sys
from decimal import Decimal
d = json.load(open(sys.argv[1]), parse_float=Decimal)
assert d["displayTimeUnit"] == "ns"
ev = d["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
assert names == {i: "magpie worker %d" % i for i in range(W)}, names
assert all(e["pid"] == 1 and 0 <= e["tid"] < W for e in ev)
xs = [e for e in ev if e["ph"] == "X"]
for e in xs:
    assert e["dur"] >= 0 and e["ts"] >= 0, e
    assert e["args"]["lane"] in ("high", "normal", "low"), e
for tid in range(W):
    mine = sorted((e for e in xs if e["tid"] == tid), key=lambda e: (e["ts"], -e["dur"]))
    stack = []
    for e in mine:
        end = e["ts"] + e["dur"]
        while stack and stack[-1] <= e["ts"]:
            stack.pop()
        assert not stack or end <= stack[-1], ("overlap without nesting", tid, e)
        stack.append(end)
steals = [e for e in ev if e["ph"] == "i" and e["name"] == "steal"]
for e in steals:
    assert 0 <= e["args"]["victim"] < W and e["args"]["victim"] != e["tid"], e
instants = [e for e in ev if e["ph"] == "i"]
assert all(e["s"] == "t" and e["name"] in ("steal", "park", "wake") for e in instants)
)";

std::string with_constants(const std::string& body, std::size_t workers, const totals* t,
                           std::uint64_t lost) {
  std::string s = "W = " + std::to_string(workers) + "\n" + body;
  if (t != nullptr) {
    s += "assert len(xs) == " + std::to_string(t->tasks) + ", len(xs)\n";
    s += "assert len(steals) == " + std::to_string(t->steals) + ", len(steals)\n";
    s += "assert sum(e['name'] == 'park' for e in instants) == " + std::to_string(t->parks) + "\n";
    s +=
        "assert sum(e['name'] == 'wake' for e in instants) == " + std::to_string(t->wakeups) + "\n";
  }
  s += "assert d['otherData']['lost_events'] == '" + std::to_string(lost) + "'\n";
  return s;
}

}  // namespace

TEST_CASE("write_chrome_trace refuses when tracing is off and names a path it cannot write" *
          doctest::timeout(120)) {
  magpie::runtime off(with_workers(1));
  CHECK_THROWS_WITH_AS(off.write_chrome_trace("unused.json"), doctest::Contains("config.trace"),
                       std::logic_error);
  magpie::config c = with_workers(1);
  c.trace = true;
  magpie::runtime on(c);
  CHECK_THROWS_WITH_AS(on.write_chrome_trace("/nonexistent-dir/trace.json"),
                       doctest::Contains("/nonexistent-dir/trace.json"), std::system_error);
}

TEST_CASE("the trace holds one complete event per task run, properly nested, and every steal" *
          doctest::timeout(120)) {
  if (!magpie::test::have_python()) {
    MESSAGE("python3 not found: skipping the trace checks");
    return;
  }
  constexpr std::size_t workers = 3;
  magpie::config c = with_workers(workers, magpie::pinning::none);
  c.trace = true;
  c.spin = std::chrono::microseconds(0);  // park often: park and wake events too
  magpie::runtime rt(c);
  known_work(rt);
  rt.shutdown();  // counts final; the rings stay readable until the runtime is destroyed
  const totals t = sum(rt.stats());
  REQUIRE(t.tasks + t.steals + t.parks + t.wakeups < workers * c.trace_capacity / 4);
  magpie::test::temp_file out("trace_full.json");
  rt.write_chrome_trace(out.path());
  CHECK(magpie::test::run_python(with_constants(check_trace, workers, &t, 0), out.path()) == 0);
}

TEST_CASE("a small ring keeps each worker's newest events and counts the rest as lost" *
          doctest::timeout(120)) {
  if (!magpie::test::have_python()) {
    MESSAGE("python3 not found: skipping the trace checks");
    return;
  }
  constexpr std::size_t workers = 2, capacity = 16;
  magpie::config c = with_workers(workers, magpie::pinning::none);
  c.trace = true;
  c.trace_capacity = capacity;
  magpie::runtime rt(c);
  known_work(rt);
  rt.shutdown();
  const magpie::runtime_stats s = rt.stats();
  std::uint64_t lost = 0;
  std::string expect = "per = [0] * W\nfor e in ev:\n    if e['ph'] != 'M': per[e['tid']] += 1\n";
  for (std::size_t i = 0; i < workers; ++i) {
    const magpie::worker_stats& w = s.workers[i];
    const std::uint64_t recorded = w.tasks_run + w.stolen + w.parks + w.wakeups;
    const std::uint64_t kept = std::min<std::uint64_t>(recorded, capacity);
    lost += recorded - kept;
    expect += "assert per[" + std::to_string(i) + "] == " + std::to_string(kept) + ", per\n";
  }
  magpie::test::temp_file out("trace_small.json");
  rt.write_chrome_trace(out.path());
  CHECK(magpie::test::run_python(with_constants(check_trace + expect, workers, nullptr, lost),
                                 out.path()) == 0);
}

TEST_CASE("a trace written while tasks run is well-formed" * doctest::timeout(120)) {
  if (!magpie::test::have_python()) {
    MESSAGE("python3 not found: skipping the trace checks");
    return;
  }
  constexpr std::size_t workers = 2;
  magpie::config c = with_workers(workers, magpie::pinning::none);
  c.trace = true;
  c.trace_capacity = 64;  // small: the workers overwrite slots while the writer copies them
  magpie::runtime rt(c);
  std::atomic<bool> stop{false};
  std::thread feeder([&] {
    while (!stop.load()) {
      magpie::task_group g(rt);
      for (int i = 0; i < 50; ++i)
        g.spawn([&rt] { (void)fib(rt, 6); });
      g.wait();
    }
  });
  const std::string checks = std::string(check_trace) +
                             "assert all(sum(e['tid'] == t for e in ev if e['ph'] != 'M') " +
                             "<= 64 for t in range(W))\n";
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    magpie::test::temp_file out("trace_live.json");
    rt.write_chrome_trace(out.path());
    // Lost events are whatever the workers overwrote, not known here: check the rest.
    CHECK(magpie::test::run_python("W = 2\n" + checks, out.path()) == 0);
  }
  stop.store(true);
  feeder.join();
}

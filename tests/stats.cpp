// runtime::stats(): per-worker counters after known work, pending, per-lane latency histograms,
// the JSON and Prometheus renderings, and stuck-worker detection.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "magpie/magpie.hpp"
#include "python_check.hpp"
#include "test_support.hpp"

namespace {

using magpie::priority;
using magpie::test::gate;
using magpie::test::with_workers;

constexpr int detached = 300;
constexpr int spawns = 100;

// 300 detached tasks from this (outside) thread, and one more that spawns a group of 100 on its
// worker and waits for it. Returns the snapshot taken after shutdown, when every count is final.
magpie::runtime_stats after_known_work(std::chrono::nanoseconds& elapsed) {
  const auto t0 = std::chrono::steady_clock::now();
  magpie::runtime rt(with_workers(2));
  std::latch done(detached + 1);
  for (int i = 0; i < detached; ++i)
    rt.submit([&] { done.count_down(); });
  rt.submit([&] {
    magpie::task_group g(rt);
    for (int i = 0; i < spawns; ++i)
      g.spawn([] {});
    g.wait();
    done.count_down();
  });
  done.wait();
  rt.shutdown();
  magpie::runtime_stats s = rt.stats();
  elapsed = std::chrono::steady_clock::now() - t0;
  return s;
}

std::uint64_t total(const magpie::runtime_stats& s, std::uint64_t magpie::worker_stats::*field) {
  std::uint64_t n = 0;
  for (const auto& w : s.workers)
    n += w.*field;
  return n;
}

}  // namespace

TEST_CASE("after known work the per-worker counters add up exactly" * doctest::timeout(120)) {
  std::chrono::nanoseconds elapsed{};
  const magpie::runtime_stats s = after_known_work(elapsed);
  REQUIRE(s.workers.size() == 2);
  CHECK(total(s, &magpie::worker_stats::tasks_run) == detached + 1 + spawns);
  CHECK(total(s, &magpie::worker_stats::injected) == detached + 1);  // all from outside
  CHECK(total(s, &magpie::worker_stats::spawned) == spawns);         // the group, on a worker
  CHECK(total(s, &magpie::worker_stats::exceptions) == 0);
  for (const magpie::worker_stats& w : s.workers) {
    CHECK(w.stolen <= w.steal_attempts);  // a steal is an attempt that won
    CHECK(w.steals_near + w.steals_far == w.stolen);
    // After shutdown every park has ended in a wake-up (the workers were joined).
    CHECK(w.wakeups == w.parks);
    CHECK(w.busy_ns <= static_cast<std::uint64_t>(elapsed.count()));
    CHECK_FALSE(w.stalled);  // no stall_threshold: never flagged
    CHECK(w.current_task_ns == 0);
  }
  CHECK(total(s, &magpie::worker_stats::busy_ns) > 0);
  // Detached tasks are timed (the group's are not): the 300 and the spawner, all normal lane.
  const magpie::latency_histogram& h = s.latency_of(priority::normal);
  CHECK(h.count == detached + 1);
  CHECK(h.sum_ns >= h.max_ns);
  CHECK(h.sum_ns <= h.count * h.max_ns);
  CHECK(s.latency_of(priority::high).count == 0);
  CHECK(s.latency_of(priority::high).sum_ns == 0);
  CHECK(s.pending == 0);
  CHECK(s.queued == std::array<std::uint64_t, 3>{0, 0, 0});
}

TEST_CASE("after shutdown the snapshot no longer changes" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2));
  std::latch done(100);
  for (int i = 0; i < 100; ++i)
    rt.submit([&] { done.count_down(); });
  done.wait();
  rt.shutdown();
  const magpie::runtime_stats before = rt.stats();
  // Time passes (the clock moves on) but no worker is busy any more: busy time must not grow.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const magpie::runtime_stats after = rt.stats();
  for (std::size_t i = 0; i < 2; ++i) {
    // Approx: each snapshot converts ticks with the clock rate measured at that moment.
    CHECK(static_cast<double>(after.workers[i].busy_ns) ==
          doctest::Approx(static_cast<double>(before.workers[i].busy_ns)).epsilon(0.001));
    CHECK(after.workers[i].tasks_run == before.workers[i].tasks_run);
  }
}

TEST_CASE("pending counts outside submissions queued behind a busy worker, bounded or not" *
          doctest::timeout(120)) {
  for (const std::size_t bound : {std::size_t{0}, std::size_t{100}}) {
    CAPTURE(bound);
    magpie::config c = with_workers(1);
    c.max_pending = bound;
    magpie::runtime rt(c);
    gate g;
    g.occupy(rt);  // the only worker is busy: the next ten stay queued
    std::latch done(10);
    for (int i = 0; i < 10; ++i)
      rt.submit([&] { done.count_down(); });
    const magpie::runtime_stats s = rt.stats();
    CHECK(s.pending == 10);
    CHECK(s.queued[1] == 10);
    g.release();
    done.wait();
    rt.shutdown();
    CHECK(rt.stats().pending == 0);
  }
}

TEST_CASE("stats count each detached task's submit-to-start latency in its lane" *
          doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2));
  constexpr int per_lane = 200;
  std::latch done(3 * per_lane);
  for (int i = 0; i < per_lane; ++i) {
    for (priority p : {priority::high, priority::normal, priority::low})
      rt.submit([&] { done.count_down(); }, p);
  }
  magpie::task_group g(rt);
  for (int i = 0; i < 50; ++i)
    g.spawn([] {});  // group tasks are not timed
  g.wait();
  done.wait();
  rt.shutdown();  // every count is final
  const magpie::runtime_stats s = rt.stats();
  for (priority p : {priority::high, priority::normal, priority::low}) {
    const magpie::latency_histogram& h = s.latency_of(p);
    CHECK(h.count == per_lane);
    std::uint64_t sum = 0;
    for (const auto& b : h.buckets)
      sum += b.count;
    CHECK(sum == h.count);
    CHECK(h.percentile_ns(0.5) <= h.percentile_ns(0.9));
    CHECK(h.percentile_ns(0.9) <= h.percentile_ns(0.99));
    CHECK(h.percentile_ns(0.99) <= h.max_ns);
    CHECK(h.percentile_ns(1.0) == h.max_ns);
  }
  std::uint64_t ran = 0, injected = 0;
  for (const auto& w : s.workers) {
    ran += w.tasks_run;
    injected += w.injected;
  }
  CHECK(ran == 3 * per_lane + 50);
  CHECK(injected == 3 * per_lane + 50);  // this thread is not a worker: all went through it
  CHECK(s.queued == std::array<std::uint64_t, 3>{0, 0, 0});
  CHECK_THROWS_AS((void)s.latency_of(priority::high).percentile_ns(0.0), std::invalid_argument);
  CHECK_THROWS_AS((void)s.latency_of(priority::high).percentile_ns(1.5), std::invalid_argument);
}

TEST_CASE("an empty histogram reports zeros" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(1));
  const magpie::runtime_stats s = rt.stats();
  CHECK(s.latency_of(priority::low).count == 0);
  CHECK(s.latency_of(priority::low).percentile_ns(0.99) == 0);
  CHECK(s.workers.size() == 1);
}

TEST_CASE("to_json is valid JSON carrying every worker's counters and every lane" *
          doctest::timeout(120)) {
  if (!magpie::test::have_python()) {
    MESSAGE("python3 not found: skipping the JSON parse");
    return;
  }
  std::chrono::nanoseconds elapsed{};
  const magpie::runtime_stats s = after_known_work(elapsed);
  magpie::test::temp_file json("stats.json");
  json.write(magpie::to_json(s));
  const std::string script = R"(
import json, sys
d = json.load(open(sys.argv[1]))
ws = d["workers"]
assert len(ws) == 2, ws
assert [w["index"] for w in ws] == [0, 1]
assert sum(w["tasks_run"] for w in ws) == 401, ws
assert sum(w["spawned"] for w in ws) == 100, ws
assert sum(w["injected"] for w in ws) == 301, ws
for w in ws:
    for k in ("stolen", "steal_attempts", "steals_near", "steals_far", "parks", "wakeups",
              "busy_ns", "discarded", "canceled", "exceptions", "current_task_ns", "cpu"):
        assert isinstance(w[k], int), (k, w)
    assert w["stalled"] is False
assert d["queued"] == {"high": 0, "normal": 0, "low": 0}, d["queued"]
assert d["pending"] == 0
assert d["semaphore_waiting"] == 0 and d["strand_queued"] == 0, d
n = d["latency"]["normal"]
assert n["count"] == 301, n
assert sum(b["count"] for b in n["buckets"]) == n["count"]
assert n["p50_ns"] <= n["p90_ns"] <= n["p99_ns"] <= n["max_ns"] <= n["sum_ns"]
assert d["latency"]["high"]["buckets"] == [] and d["latency"]["low"]["count"] == 0
)";
  CHECK(magpie::test::run_python(script, json.path()) == 0);
}

namespace {

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value;
};

// Parses one exposition line `name{a="x",b="y"} value` (labels optional); throws on anything
// else, so a malformed line fails the test.
sample parse_sample(const std::string& line) {
  sample s;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ')
    s.name += line[i++];
  if (s.name.empty()) throw std::runtime_error("no metric name: " + line);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (line.at(i) != '}') {
      std::string key;
      while (line.at(i) != '=')
        key += line[i++];
      if (line.at(++i) != '"') throw std::runtime_error("unquoted label: " + line);
      std::string val;
      while (line.at(++i) != '"')
        val += line[i];
      ++i;
      if (line.at(i) == ',') ++i;
      s.labels[key] = val;
    }
    ++i;
  }
  if (line.at(i) != ' ') throw std::runtime_error("no space before the value: " + line);
  s.value = line.substr(i + 1);
  if (s.value.empty() || s.value.find(' ') != std::string::npos)
    throw std::runtime_error("bad value: " + line);
  std::size_t used = 0;
  (void)std::stod(s.value, &used);
  if (used != s.value.size() && s.value != "+Inf") throw std::runtime_error("bad value: " + line);
  return s;
}

std::vector<sample> parse_exposition(const std::string& text, std::vector<std::string>& typed) {
  std::vector<sample> out;
  std::istringstream in(text);
  std::string line;
  std::string helped;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      helped = line.substr(7, line.find(' ', 7) - 7);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      if (name != helped) throw std::runtime_error("TYPE without HELP: " + line);
      typed.push_back(name);
    } else {
      sample s = parse_sample(line);
      // Every sample belongs to the family announced last (histograms add a suffix).
      const std::string& family = typed.at(typed.size() - 1);
      if (s.name.rfind(family, 0) != 0) throw std::runtime_error("outside its family: " + line);
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("to_prometheus writes valid text format with cumulative histograms" *
          doctest::timeout(120)) {
  std::chrono::nanoseconds elapsed{};
  const magpie::runtime_stats s = after_known_work(elapsed);
  const std::string text = magpie::to_prometheus(s);
  std::vector<std::string> families;
  std::vector<sample> samples;
  REQUIRE_NOTHROW(samples = parse_exposition(text, families));
  CHECK(std::all_of(families.begin(), families.end(),
                    [](const std::string& f) { return f.rfind("magpie_", 0) == 0; }));
  // A family appears once.
  std::vector<std::string> sorted = families;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());

  std::uint64_t run = 0, spawned = 0;
  std::map<std::string, std::vector<std::pair<std::string, double>>> buckets;  // lane -> (le, n)
  std::map<std::string, double> counts, sums;
  for (const sample& x : samples) {
    if (x.name == "magpie_tasks_run_total") run += std::stoull(x.value);
    if (x.name == "magpie_tasks_spawned_total") spawned += std::stoull(x.value);
    if (x.name == "magpie_task_start_latency_seconds_bucket")
      buckets[x.labels.at("lane")].emplace_back(x.labels.at("le"), std::stod(x.value));
    if (x.name == "magpie_task_start_latency_seconds_count")
      counts[x.labels.at("lane")] = std::stod(x.value);
    if (x.name == "magpie_task_start_latency_seconds_sum")
      sums[x.labels.at("lane")] = std::stod(x.value);
  }
  CHECK(run == detached + 1 + spawns);
  CHECK(spawned == spawns);
  REQUIRE(buckets.size() == 3);
  for (const auto& [lane, bs] : buckets) {
    CAPTURE(lane);
    REQUIRE(bs.size() >= 2);
    CHECK(bs.back().first == "+Inf");
    double prev_le = 0, prev_n = 0;
    for (std::size_t i = 0; i + 1 < bs.size(); ++i) {
      const double le = std::stod(bs[i].first);
      CHECK(le > prev_le);            // edges ascend
      CHECK(bs[i].second >= prev_n);  // cumulative counts never decrease
      prev_le = le;
      prev_n = bs[i].second;
    }
    CHECK(bs.back().second >= prev_n);
    CHECK(counts.at(lane) == bs.back().second);  // _count equals the +Inf bucket
  }
  CHECK(counts.at("normal") == detached + 1);
  const double exact_sum = static_cast<double>(s.latency_of(priority::normal).sum_ns) / 1e9;
  CHECK(sums.at("normal") == doctest::Approx(exact_sum).epsilon(1e-9));
  CHECK(text.find("magpie_tasks_run_total{worker=\"0\"} ") != std::string::npos);
  CHECK(text.find("# TYPE magpie_task_start_latency_seconds histogram") != std::string::npos);
}

TEST_CASE("to_prometheus takes a prefix and rejects one that is not a metric name" *
          doctest::timeout(120)) {
  const magpie::runtime_stats s;
  const std::string text = magpie::to_prometheus(s, "my_app");
  CHECK(text.find("my_app_tasks_run_total") != std::string::npos);
  CHECK(text.find("magpie_") == std::string::npos);
  CHECK_THROWS_WITH_AS((void)magpie::to_prometheus(s, "my-app"), doctest::Contains("prefix"),
                       std::invalid_argument);
  CHECK_THROWS_AS((void)magpie::to_prometheus(s, "9lives"), std::invalid_argument);
  CHECK_THROWS_AS((void)magpie::to_prometheus(s, ""), std::invalid_argument);
}

namespace {

// Polls `pred` until it holds or 10 s pass: waiting for an event the monitor thread produces,
// not asserting how fast it comes.
template <class Pred>
bool eventually(Pred&& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

struct stall_log {
  std::mutex mu;
  std::vector<magpie::stall_info> seen;
  void add(const magpie::stall_info& i) {
    std::lock_guard lock(mu);
    seen.push_back(i);
  }
  std::vector<magpie::stall_info> get() {
    std::lock_guard lock(mu);
    return seen;
  }
};

}  // namespace

TEST_CASE("a task blocked past stall_threshold is reported once and flagged until it ends" *
          doctest::timeout(120)) {
  constexpr auto threshold = std::chrono::milliseconds(20);
  stall_log log;
  magpie::config c = with_workers(2);
  c.stall_threshold = threshold;
  c.on_stall = [&log](const magpie::stall_info& i) { log.add(i); };
  magpie::runtime rt(c);

  for (std::size_t round = 1; round <= 2; ++round) {  // each stuck task is reported once
    CAPTURE(round);
    gate g;
    std::atomic<int> where{-1};
    rt.submit([&] {
      where.store(magpie::current_worker());
      g.pass();
    });
    g.wait_entered();
    const auto w = static_cast<std::size_t>(where.load());
    REQUIRE(eventually([&] { return log.get().size() == round && rt.stats().workers[w].stalled; }));
    const magpie::stall_info info = log.get().back();
    CHECK(info.worker == w);
    CHECK(info.running_for > threshold);  // flagged only once past the threshold
    const magpie::runtime_stats s = rt.stats();
    CHECK(s.workers[w].current_task_ns >
          static_cast<std::uint64_t>(std::chrono::nanoseconds(threshold).count()));
    CHECK_FALSE(s.workers[1 - w].stalled);  // the other worker is idle
    // Let the monitor look several more times at the same stuck task: still one report.
    REQUIRE(eventually([&] { return rt.stats().workers[w].current_task_ns > 5 * 20'000'000ull; }));
    CHECK(log.get().size() == round);
    g.release();
    REQUIRE(eventually([&] { return !rt.stats().workers[w].stalled; }));
    rt.wait_idle();  // the task may still be in g.pass(): let it end before `g` leaves scope
  }
  rt.shutdown();
  CHECK(log.get().size() == 2);
}

TEST_CASE("an on_stall handler that throws does not stop the monitor" * doctest::timeout(120)) {
  magpie::config c = with_workers(1);
  c.stall_threshold = std::chrono::milliseconds(20);
  std::atomic<int> calls{0};
  c.on_stall = [&calls](const magpie::stall_info&) {
    calls.fetch_add(1);
    throw std::runtime_error("handler failed (expected by the test)");
  };
  magpie::runtime rt(c);
  for (int round = 1; round <= 2; ++round) {
    gate g;
    g.occupy(rt);
    REQUIRE(eventually([&] { return calls.load() == round; }));
    g.release();
    REQUIRE(eventually([&] { return !rt.stats().workers[0].stalled; }));
    // The task may still be inside g.pass() after the flag clears: let it end before `g` goes
    // out of scope (the next round's gate takes its place on this stack).
    rt.wait_idle();
  }
}

TEST_CASE("a worker waiting on a group is not flagged while the group's tasks make progress" *
          doctest::timeout(120)) {
  // The monitor runs on the wall clock, so a worker that the OS deschedules for a whole
  // threshold (a loaded machine) is rightly flagged. A report is wrong only if the chain made
  // progress during the second half of the window it reports stuck: then a task started there.
  using clock = std::chrono::steady_clock;
  constexpr auto threshold = std::chrono::milliseconds(500);
  magpie::config c = with_workers(1);
  c.stall_threshold = threshold;
  std::atomic<clock::rep> last_step{clock::now().time_since_epoch().count()};
  std::atomic<int> reports{0};
  c.on_stall = [&](const magpie::stall_info& info) {
    const auto stuck_since = clock::now() - info.running_for;
    const clock::time_point step{clock::duration{last_step.load()}};
    if (step > stuck_since + info.running_for / 2) reports.fetch_add(1);
  };
  magpie::runtime rt(c);
  // The root task waits on its group for three thresholds, but its worker keeps starting short
  // tasks inside that wait, so it is never stuck on one task.
  std::latch done(1);
  rt.submit([&] {
    magpie::task_group g(rt);
    const auto until = clock::now() + 3 * threshold;
    std::function<void()> chain = [&] {
      const auto now = clock::now();
      last_step.store(now.time_since_epoch().count());
      if (now < until) g.spawn(chain);
    };
    g.spawn(chain);
    g.wait();
    done.count_down();
  });
  done.wait();
  rt.shutdown();
  CHECK(reports.load() == 0);
}

TEST_CASE("without a stall threshold a blocked task is never flagged" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(1));
  gate g;
  g.occupy(rt);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (std::chrono::steady_clock::now() < until) {
    const magpie::runtime_stats s = rt.stats();
    CHECK_FALSE(s.workers[0].stalled);
    CHECK(s.workers[0].current_task_ns == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  g.release();
}

TEST_CASE("a task that timed out in wait_for counts as busy again once it is back" *
          doctest::timeout(60)) {
  // With a spin budget longer than the wait, the waiting worker searches until the deadline
  // and leaves through the search's own exit, which marked it idle: the wait must mark it busy
  // again, or busy_ns stops counting (and the stall monitor stops looking) for the rest of the
  // task. busy_ns must keep growing while the task stays blocked after the wait.
  magpie::config c = with_workers(2);
  c.spin = std::chrono::seconds(1);
  magpie::runtime rt(c);
  gate child, after_wait;
  std::atomic<int> waiter{-1};
  std::atomic<int> timed_out{-1};
  rt.submit([&] {
    magpie::task_group g(rt);
    g.spawn([&] { child.pass(); });  // stolen by the other worker, held there
    child.wait_entered();
    waiter.store(magpie::current_worker());
    // The first wait may park instead (a worker woken beside its waker hands searching over
    // once); the second one searches.
    const bool first = g.wait_for(std::chrono::milliseconds(5));
    timed_out.store(first || g.wait_for(std::chrono::milliseconds(20)) ? 0 : 1);
    after_wait.pass();  // back in the task, blocked: busy by definition
    child.release();
  });
  after_wait.wait_entered();
  CHECK(timed_out.load() == 1);
  const auto w = static_cast<std::size_t>(waiter.load());
  // busy_ns converts clock ticks with a rate re-measured at each snapshot, so a frozen count
  // may wobble by a few nanoseconds: look for milliseconds of growth.
  const std::uint64_t before = rt.stats().workers[w].busy_ns;
  CHECK(eventually([&] { return rt.stats().workers[w].busy_ns > before + 5'000'000; }));
  after_wait.release();
  rt.shutdown();
}

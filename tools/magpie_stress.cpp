// magpie-stress: a soak test. Round after round it builds a runtime with a random configuration
// (1..64 workers, spin 0..50 us, bounded or unbounded injector, latency mode or not, any
// starvation limit, every priority lane), drives it with external
// producers, random spawn trees with waits inside tasks, groups that throw or are canceled,
// and wake-up probes, then shuts it down (drain or cancel) and checks the books:
//   * every accepted task ran exactly once, or shutdown(cancel) / a group cancellation reported
//     it as not run (the report's discarded + canceled equal the tasks that never ran);
//   * no wake-up was lost: a probe submitted to an idle runtime starts within --probe-ms.
// One round in three is a shutdown race instead: the shutdown (drain, cancel, shutdown_for with
// a deadline of 0-2 ms, or two concurrent shutdowns of either kind) begins while producers of
// every kind (submit, try_submit, submit_for, async with abandoned futures) and spawn trees are
// still going, and another thread keeps changing set_active_workers until then. Refusals count
// as refused; accepted = ran + discarded + canceled must still hold exactly, concurrent
// shutdowns must return the same report, and on_discard must be called once per discard.
// One round in four runs coroutines instead (run_coro_round).
// Half the rounds also route tasks through a weighted semaphore (capacity 1-8, weights up to
// it: the units in use, checked by every task, never exceed the capacity; one submit in 200
// first moves the capacity somewhere between 1 and it) and through strands
// (whose tasks must never overlap), under the same books.
// Any violation prints the seed and round settings and exits 1. Progress (rounds, tasks,
// elapsed) goes to stderr once a second. Options: help_text below (magpie-stress --help).
#include <magpie/coro.hpp>
#include <magpie/magpie.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  double seconds = 10;
  std::uint64_t tasks = 0;  // 0: run for `seconds`
  std::uint64_t seed = 0;
  std::size_t max_workers = 64;
  int probe_ms = 5000;
};

constexpr const char* usage_text =
    "usage: magpie-stress [--seconds S | --tasks N] [--seed X] [--max-workers W] [--probe-ms M]\n";

constexpr const char* help_text =
    "Soak test: round after round, a runtime with a random configuration is driven by external\n"
    "producers, spawn trees, failing and canceled groups and wake-up probes, shut down, and its\n"
    "books checked (every accepted task ran once or is reported discarded or canceled; no lost\n"
    "wake-up). Progress goes to stderr once a second.\n"
    "Options:\n"
    "  --seconds S      run for S seconds (default 10; the round in progress finishes)\n"
    "  --tasks N        run until N tasks were accepted, instead of --seconds\n"
    "  --seed X         seed of the random rounds (default: from the clock; printed at the\n"
    "                   start and at the end, so that a failure can be replayed)\n"
    "  --max-workers W  upper bound on a round's worker count, 1..4096 (default 64)\n"
    "  --probe-ms M     how long a wake-up probe may wait to start before it counts as a lost\n"
    "                   wake-up, in ms (default 5000)\n"
    "  -h, --help       this text\n"
    "Exit status: 0 no violation, 1 a violation (printed with the round's settings), 2 bad\n"
    "arguments.\n";

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "magpie-stress: %s\n%s", why.c_str(), usage_text);
  std::exit(2);
}

// A whole decimal number in [low, high], or usage().
std::uint64_t number(const std::string& text, const std::string& what, std::uint64_t low,
                     std::uint64_t high) {
  const bool digits = !text.empty() && text.size() <= 19 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  const std::uint64_t v = digits ? std::stoull(text) : 0;
  if (!digits || v < low || v > high) {
    usage("bad value '" + text + "' for " + what + " (a whole number from " + std::to_string(low) +
          " to " + std::to_string(high) + ")");
  }
  return v;
}

double seconds_value(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(v > 0) || v > 1e9)
    usage("bad value '" + text + "' for --seconds (a number of seconds above 0)");
  return v;
}

options parse(int argc, char** argv) {
  options o;
  o.seed = static_cast<std::uint64_t>(clock_type::now().time_since_epoch().count());
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s%s", usage_text, help_text);
      std::exit(0);
    }
    if (a != "--seconds" && a != "--tasks" && a != "--seed" && a != "--max-workers" &&
        a != "--probe-ms")
      usage("unknown option '" + a + "'");
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    constexpr std::uint64_t any = std::numeric_limits<std::uint64_t>::max();
    if (a == "--seconds") {
      o.seconds = seconds_value(v);
    } else if (a == "--tasks") {
      o.tasks = number(v, a, 1, any);
    } else if (a == "--seed") {
      o.seed = number(v, a, 0, any);
    } else if (a == "--max-workers") {
      o.max_workers = number(v, a, 1, 4096);
    } else {
      o.probe_ms = static_cast<int>(number(v, a, 1, 3'600'000));
    }
  }
  return o;
}

// Prints rounds, tasks and elapsed time to stderr once a second until destroyed.
class progress {
 public:
  explicit progress(clock_type::time_point start) : start_(start), thread_([this] { loop(); }) {}
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;
  ~progress() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void round_done(std::uint64_t tasks) {
    rounds_.fetch_add(1, std::memory_order_relaxed);
    tasks_.fetch_add(tasks, std::memory_order_relaxed);
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) {
      const double elapsed = std::chrono::duration<double>(clock_type::now() - start_).count();
      std::fprintf(stderr, "magpie-stress: %llu rounds, %llu tasks, %.0f s\n",
                   static_cast<unsigned long long>(rounds_.load(std::memory_order_relaxed)),
                   static_cast<unsigned long long>(tasks_.load(std::memory_order_relaxed)),
                   elapsed);
    }
  }

  clock_type::time_point start_;
  std::atomic<std::uint64_t> rounds_{0}, tasks_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the members it reads exist
};

// One round's settings, printed with any violation so that it can be replayed.
struct round_config {
  std::uint64_t seed;
  std::size_t workers;
  std::chrono::microseconds spin;
  std::size_t max_pending;
  int producers;
  int trees;
  bool cancel_at_end;
  std::size_t latency_workers;
  std::size_t starvation_limit;
  bool big_machine;          // victim rings of a synthetic 2-socket machine instead of this one's
  int race;                  // 0: shut down after the producers; else how a racing shutdown goes
  bool churn;                // a thread changes set_active_workers until the shutdown
  bool coro;                 // a coroutine round (run_coro_round) instead of callables
  std::size_t sem_capacity;  // 0: no semaphore or strand traffic this round
};

// A round's semaphore and strands, and what their tasks check.
struct limits {
  limits(magpie::runtime& rt, std::size_t capacity) : sem(rt, capacity), cap(capacity) {
    for (auto& s : strands)
      s = std::make_unique<magpie::strand>(rt, magpie::priority::normal);
  }
  magpie::semaphore sem;
  std::size_t cap;
  std::array<std::unique_ptr<magpie::strand>, 8> strands;
  std::array<std::atomic<bool>, 8> busy{};
  std::atomic<std::size_t> in_use{0};
  std::atomic<bool> over{false};     // the semaphore's capacity was exceeded
  std::atomic<bool> overlap{false};  // two tasks of one strand ran at once
};

// Racing shutdowns (round_config::race).
enum race_kind { no_race, race_drain, race_cancel, race_deadline, race_two_shutdowns, race_kinds };
const char* race_name(int r) {
  static constexpr const char* names[] = {"none", "drain", "cancel", "shutdown_for",
                                          "two concurrent"};
  return names[r];
}

// Which ids ran, and how often. Sized per round.
class ledger {
 public:
  explicit ledger(std::size_t capacity)
      : runs_(new std::atomic<std::uint8_t>[capacity]), cap_(capacity) {
    for (std::size_t i = 0; i < cap_; ++i)
      runs_[i].store(0, std::memory_order_relaxed);
  }
  /// A new id, or none (the round is full).
  bool next(std::size_t& id) {
    id = issued_.fetch_add(1, std::memory_order_relaxed);
    return id < cap_;
  }
  void ran(std::size_t id) { runs_[id].fetch_add(1, std::memory_order_relaxed); }
  /// Ids that were issued but whose task was never accepted (refused try_submit, closed).
  void refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  std::size_t issued() const { return issued_.load(std::memory_order_relaxed); }

  struct totals {
    std::uint64_t issued = 0, ran_once = 0, never = 0, twice = 0, refused = 0;
  };
  totals count() const {
    totals t;
    t.issued = std::min<std::uint64_t>(issued_.load(), cap_);
    for (std::size_t i = 0; i < t.issued; ++i) {
      const auto n = runs_[i].load(std::memory_order_relaxed);
      if (n == 0) ++t.never;
      if (n == 1) ++t.ran_once;
      if (n > 1) ++t.twice;
    }
    t.refused = refused_.load();
    return t;
  }

 private:
  std::unique_ptr<std::atomic<std::uint8_t>[]> runs_;
  std::size_t cap_;
  std::atomic<std::size_t> issued_{0};
  std::atomic<std::uint64_t> refused_{0};
};

[[noreturn]] void violation(const round_config& rc, const std::string& what) {
  std::fprintf(
      stderr,
      "magpie-stress: VIOLATION: %s\n  round seed %llu, workers %zu, spin %lld us, "
      "max_pending %zu, producers %d, trees %d, shutdown %s, latency_workers %zu, "
      "starvation_limit %zu, big machine %s, race %s, churn %s, coroutines %s, semaphore %zu\n",
      what.c_str(), static_cast<unsigned long long>(rc.seed), rc.workers,
      static_cast<long long>(rc.spin.count()), rc.max_pending, rc.producers, rc.trees,
      rc.cancel_at_end ? "cancel" : "drain", rc.latency_workers, rc.starvation_limit,
      rc.big_machine ? "yes" : "no", race_name(rc.race), rc.churn ? "yes" : "no",
      rc.coro ? "yes" : "no", rc.sem_capacity);
  std::exit(1);
}

struct tree_stats {
  std::atomic<std::uint64_t> thrown{0};
};

// A random spawn tree: each node records itself, maybe throws (leaves only), maybe cancels
// its group, and waits for its children inside the task (so waits nest on workers).
magpie::pinning rng_pin(std::uint64_t seed) {
  return seed % 2 == 0 ? magpie::pinning::compact : magpie::pinning::scatter;
}

magpie::priority any_lane(std::mt19937_64& rng) {
  return static_cast<magpie::priority>(rng() % 3);
}

void grow(magpie::runtime& rt, ledger& book, tree_stats& st, std::uint64_t seed, int depth) {
  std::mt19937_64 rng(seed);
  magpie::task_group g(rt, any_lane(rng));
  const int children = depth == 0 ? 0 : static_cast<int>(rng() % 6);
  for (int c = 0; c < children; ++c) {
    std::size_t id = 0;
    if (!book.next(id)) break;
    const std::uint64_t child_seed = rng();
    const bool leaf_throws = depth == 1 && rng() % 50 == 0;
    g.spawn([&rt, &book, &st, id, child_seed, depth, leaf_throws] {
      book.ran(id);
      if (leaf_throws) {
        st.thrown.fetch_add(1, std::memory_order_relaxed);
        throw std::runtime_error("stress: planned failure");
      }
      grow(rt, book, st, child_seed, depth - 1);
    });
  }
  if (children > 0 && rng() % 40 == 0) g.cancel();
  try {
    g.wait();
  } catch (const std::runtime_error&) {
    // Planned failures propagate to the nearest waiter; the books count them as ran.
  }
}

// Submits to an idle runtime and waits (with a bound) for the task to start.
bool probe_wakeup(magpie::runtime& rt, int probe_ms) {
  struct shared {
    std::mutex mu;
    std::condition_variable cv;
    bool started = false;
  };
  auto s = std::make_shared<shared>();
  if (!rt.try_submit([s] {
        std::lock_guard lock(s->mu);
        s->started = true;
        s->cv.notify_one();
      })) {
    return true;  // closed or full: nothing was accepted, nothing to lose
  }
  std::unique_lock lock(s->mu);
  return s->cv.wait_for(lock, std::chrono::milliseconds(probe_ms), [&] { return s->started; });
}

round_config pick(std::mt19937_64& rng, const options& o) {
  round_config rc{};
  rc.seed = rng();
  // Mostly small worker counts, sometimes many (oversubscribed on purpose).
  const std::size_t small = 1 + rng() % std::min<std::size_t>(o.max_workers, 4);
  rc.workers = rng() % 5 == 0 ? 1 + rng() % o.max_workers : small;
  static constexpr int spins[] = {0, 0, 5, 50};
  rc.spin = std::chrono::microseconds(spins[rng() % 4]);
  rc.max_pending = rng() % 3 == 0 ? 64 + rng() % 4096 : 0;
  rc.producers = 1 + static_cast<int>(rng() % 4);
  rc.trees = static_cast<int>(rng() % 4);
  rc.cancel_at_end = rng() % 4 == 0;
  rc.latency_workers = rng() % 4 == 0 ? 1 + rng() % rc.workers : 0;
  rc.starvation_limit = 2 + rng() % 64;
  rc.big_machine = rng() % 4 == 0;
  rc.race = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % (race_kinds - 1)) : no_race;
  rc.churn = rc.race != no_race && rng() % 2 == 0;
  rc.coro = rng() % 4 == 0;
  rc.sem_capacity = rng() % 2 == 0 ? 1 + rng() % 8 : 0;
  return rc;
}

// Submits ledger task `id` through one entry point: submit or try_submit, or in a racing round
// also submit_for (0-1 ms) and async (its future abandoned). A refusal (false, runtime_closed)
// counts as refused.
void submit_one(magpie::runtime& rt, ledger& book, std::size_t id, std::mt19937_64& rng,
                bool every_kind) {
  const bool throws = rng() % 1000 == 0;
  auto task = [&book, id, throws] {
    book.ran(id);
    if (throws) throw std::logic_error("stress: planned detached failure");
  };
  const magpie::priority lane = any_lane(rng);
  bool accepted = false;
  try {
    switch (every_kind ? rng() % 4 : rng() % 2) {
      case 0:
        accepted = rt.try_submit(task, lane);
        break;
      case 1:
        rt.submit(task, lane);
        accepted = true;
        break;
      case 2:
        accepted = rt.submit_for(task, std::chrono::microseconds(rng() % 1000), lane);
        break;
      default:
        static_cast<void>(rt.async(task, lane));  // abandoned: the task still runs
        accepted = true;
        break;
    }
  } catch (const magpie::runtime_closed&) {
  }
  if (!accepted) book.refused();
}

// Submits ledger task `id` through the round's semaphore (a random weight) or one of its
// strands. A refusal counts as refused.
void submit_limited(limits& lim, ledger& book, std::size_t id, std::mt19937_64& rng) {
  const bool throws = rng() % 1000 == 0;
  bool accepted = false;
  try {
    if (rng() % 200 == 0) {
      // Moves the capacity under the waiting tasks (refused below the heaviest of them); the
      // tasks' check stays against lim.cap, the highest it is ever set to.
      try {
        lim.sem.set_capacity(1 + rng() % lim.cap);
      } catch (const std::invalid_argument&) {
      }
    }
    if (rng() % 2 == 0) {
      const std::size_t w = 1 + rng() % lim.cap;
      lim.sem.submit(w, [&lim, &book, id, w, throws] {
        if (lim.in_use.fetch_add(w) + w > lim.cap) lim.over.store(true);
        book.ran(id);
        lim.in_use.fetch_sub(w);
        if (throws) throw std::logic_error("stress: planned semaphore failure");
      });
      accepted = true;
    } else {
      const std::size_t k = rng() % lim.strands.size();
      auto task = [&lim, &book, id, k, throws] {
        if (lim.busy[k].exchange(true)) lim.overlap.store(true);
        book.ran(id);
        lim.busy[k].store(false);
        if (throws) throw std::logic_error("stress: planned strand failure");
      };
      if (rng() % 2 == 0) {
        accepted = lim.strands[k]->try_submit(task);
      } else {
        lim.strands[k]->submit(task);
        accepted = true;
      }
    }
  } catch (const magpie::runtime_closed&) {
  } catch (const std::invalid_argument&) {  // the weight is above a lowered capacity
  }
  if (!accepted) book.refused();
}

// A racing round's shutdown, begun while producers may still be submitting.
void race_shutdown(magpie::runtime& rt, const round_config& rc, std::mt19937_64& rng) {
  const auto mode = [&rng] {
    return rng() % 2 == 0 ? magpie::shutdown_mode::drain : magpie::shutdown_mode::cancel;
  };
  switch (rc.race) {
    case race_drain:
      rt.shutdown(magpie::shutdown_mode::drain);
      break;
    case race_cancel:
      rt.shutdown(magpie::shutdown_mode::cancel);
      break;
    case race_deadline:
      rt.shutdown_for(std::chrono::microseconds(rng() % 2000));
      break;
    default: {
      magpie::shutdown_report other;
      const magpie::shutdown_mode other_mode = mode();
      std::thread t([&] { other = rt.shutdown(other_mode); });
      const magpie::shutdown_report mine = rt.shutdown(mode());
      t.join();
      if (mine.ran != other.ran || mine.discarded != other.discarded ||
          mine.canceled != other.canceled || mine.exceptions != other.exceptions) {
        violation(rc, "two concurrent shutdowns returned different reports");
      }
      break;
    }
  }
}

// Coroutine rounds: random when_all trees of magpie::task, with yields through schedule (any
// lane) and rare throws, run by sync_wait from outside threads and by rt.spawn, racing the
// shutdown in some rounds. Checks: no node ran twice; a tree that returned counted every node
// it ran; the report's exceptions equal on_exception's calls; and after the shutdown no frame
// is left (a discarded resumption unwinds its coroutine).
struct frame_mark {
  std::atomic<std::int64_t>* live;
  explicit frame_mark(std::atomic<std::int64_t>& l) : live(&l) { live->fetch_add(1); }
  frame_mark(const frame_mark& o) : live(o.live) { live->fetch_add(1); }
  frame_mark& operator=(const frame_mark&) = delete;
  ~frame_mark() { live->fetch_sub(1); }
};

magpie::task<std::uint64_t> coro_grow(magpie::runtime& rt, ledger& book, frame_mark mark,
                                      std::uint64_t seed, int depth) {
  std::mt19937_64 rng(seed);
  std::size_t id = 0;
  if (!book.next(id)) co_return 0;
  book.ran(id);
  if (rng() % 8 == 0) co_await magpie::schedule(rt, any_lane(rng));
  if (depth == 0) {
    if (rng() % 200 == 0) throw std::runtime_error("stress: planned coroutine failure");
    co_return 1;
  }
  std::vector<magpie::task<std::uint64_t>> kids;
  for (int c = static_cast<int>(rng() % 5); c > 0; --c)
    kids.push_back(coro_grow(rt, book, mark, rng(), depth - 1));
  std::uint64_t nodes = 1;
  for (const std::uint64_t n : co_await magpie::when_all(std::move(kids)))
    nodes += n;
  co_return nodes;
}

std::uint64_t run_coro_round(const round_config& rc) {
  ledger book(200'000);
  magpie::config cfg;
  cfg.workers = rc.workers;
  cfg.spin = rc.spin;
  cfg.pin = magpie::pinning::none;
  cfg.latency_workers = rc.latency_workers;
  cfg.starvation_limit = rc.starvation_limit;
  std::atomic<std::uint64_t> reported{0};
  cfg.on_exception = [&](std::exception_ptr) { reported.fetch_add(1); };
  std::atomic<std::int64_t> live{0};
  std::atomic<std::uint64_t> returned{0};
  {
    magpie::runtime rt(cfg);
    std::vector<std::thread> threads;
    for (int p = 0; p < rc.producers; ++p) {
      threads.emplace_back([&, p] {
        std::mt19937_64 rng(rc.seed + 7 + static_cast<std::uint64_t>(p));
        for (int k = static_cast<int>(rng() % 8); k >= 0; --k) {
          try {
            if (rng() % 3 == 0) {
              rt.spawn([](magpie::task<std::uint64_t> t) -> magpie::task<void> {
                co_await std::move(t);  // its exception goes to on_exception
              }(coro_grow(rt, book, frame_mark(live), rng(), 4)));
            } else {
              returned.fetch_add(
                  magpie::sync_wait(rt, coro_grow(rt, book, frame_mark(live), rng(), 5)));
            }
          } catch (const std::runtime_error&) {
            // A planned failure, or runtime_closed in a racing round.
          }
        }
      });
    }
    if (rc.race != no_race) {
      std::mt19937_64 rng(rc.seed ^ 0x5ace);
      const std::size_t start_at = rng() % 5000;
      while (book.issued() < start_at && live.load() > 0)
        std::this_thread::yield();
      race_shutdown(rt, rc, rng);
    }
    for (auto& t : threads)
      t.join();
    const magpie::shutdown_report r = rt.shutdown(rc.cancel_at_end ? magpie::shutdown_mode::cancel
                                                                   : magpie::shutdown_mode::drain);
    if (r.exceptions != reported.load()) violation(rc, "coroutines: on_exception calls != report");
  }
  const ledger::totals t = book.count();
  if (t.twice != 0) violation(rc, std::to_string(t.twice) + " coroutines ran more than once");
  if (returned.load() > t.ran_once) violation(rc, "trees returned more nodes than ran");
  if (live.load() != 0)
    violation(rc, std::to_string(live.load()) + " coroutine frames left after the shutdown");
  return t.ran_once;
}

std::uint64_t run_round(const round_config& rc, const options& o) {
  if (rc.coro) return run_coro_round(rc);
  constexpr std::size_t capacity = 200'000;
  ledger book(capacity);
  tree_stats st;
  magpie::config cfg;
  cfg.workers = rc.workers;
  cfg.spin = rc.spin;
  cfg.max_pending = rc.max_pending;
  cfg.pin = magpie::pinning::none;
  cfg.latency_workers = rc.latency_workers;
  cfg.starvation_limit = rc.starvation_limit;
  if (rc.big_machine) {
    cfg.synthetic_topology = "package:2 numa:2 l3:2 core:4 pu:2";
    cfg.pin = rng_pin(rc.seed);
  }
  std::atomic<std::uint64_t> detached_threw{0};
  cfg.on_exception = [&](std::exception_ptr) { detached_threw.fetch_add(1); };
  std::atomic<std::uint64_t> discard_calls{0};
  cfg.on_discard = [&](magpie::priority) { discard_calls.fetch_add(1); };
  magpie::runtime rt(cfg);
  const bool racing = rc.race != no_race;
  // After rt: destroyed first (a semaphore must not outlive its runtime).
  std::unique_ptr<limits> lim;
  if (rc.sem_capacity != 0) lim = std::make_unique<limits>(rt, rc.sem_capacity);

  std::atomic<bool> lost_wakeup{false};
  std::atomic<int> producing{rc.producers};
  std::vector<std::thread> threads;
  for (int p = 0; p < rc.producers; ++p) {
    threads.emplace_back([&, p] {
      std::mt19937_64 rng(rc.seed + 1 + static_cast<std::uint64_t>(p));
      const int bursts = 1 + static_cast<int>(rng() % 20);
      for (int b = 0; b < bursts; ++b) {
        const int n = static_cast<int>(rng() % 2000);
        for (int i = 0; i < n; ++i) {
          std::size_t id = 0;
          if (!book.next(id)) {
            producing.fetch_sub(1);
            return;
          }
          if (lim != nullptr && rng() % 3 == 0) {
            submit_limited(*lim, book, id, rng);
          } else {
            submit_one(rt, book, id, rng, racing);
          }
        }
        // Let the runtime go idle, then check that one submit still wakes it. (Not while a
        // shutdown may discard the probe.)
        if (rng() % 4 == 0 && !racing && !probe_wakeup(rt, o.probe_ms)) lost_wakeup.store(true);
      }
      producing.fetch_sub(1);
    });
  }
  for (int t = 0; t < rc.trees; ++t) {
    threads.emplace_back([&, t] {
      magpie::task_group root(rt);
      std::size_t id = 0;
      if (!book.next(id)) return;
      const std::uint64_t seed = rc.seed * 31 + static_cast<std::uint64_t>(t);
      try {
        root.spawn([&, id, seed] {
          book.ran(id);
          grow(rt, book, st, seed, 6);
        });
      } catch (const magpie::runtime_closed&) {
        book.refused();  // the racing shutdown came first
      }
      root.wait();
    });
  }
  std::atomic<bool> stop_churn{false};
  std::thread churn;
  if (rc.churn) {
    churn = std::thread([&] {
      std::mt19937_64 rng(rc.seed ^ 0xc4u);
      while (!stop_churn.load()) {
        rt.set_active_workers(1 + rng() % rc.workers);
        std::this_thread::sleep_for(std::chrono::microseconds(100));  // pacing, not a sync
      }
    });
  }
  if (racing) {
    std::mt19937_64 rng(rc.seed ^ 0x5ace);
    const std::size_t start_at = rng() % 20'000;
    while (book.issued() < start_at && producing.load() > 0)
      std::this_thread::yield();
    stop_churn.store(true);
    if (churn.joinable()) churn.join();
    race_shutdown(rt, rc, rng);
  }
  for (auto& th : threads)
    th.join();
  if (lost_wakeup.load()) violation(rc, "a probe submitted to an idle runtime did not start");

  // In a racing round this returns the racing shutdown's report (or joins after shutdown_for).
  const magpie::shutdown_report r =
      rt.shutdown(rc.cancel_at_end ? magpie::shutdown_mode::cancel : magpie::shutdown_mode::drain);
  const ledger::totals t = book.count();
  // Probe tasks are not in the ledger; they ran (or were discarded) like any other task.
  const std::uint64_t accepted = t.issued - t.refused;
  if (t.twice != 0) violation(rc, std::to_string(t.twice) + " tasks ran more than once");
  if (t.never != t.refused + r.discarded + r.canceled) {
    violation(rc, std::to_string(t.never) + " tasks never ran, but " + std::to_string(t.refused) +
                      " were refused and the report lists " + std::to_string(r.discarded) +
                      " discarded + " + std::to_string(r.canceled) + " canceled");
  }
  const bool drained = rc.race == race_drain || (rc.race == no_race && !rc.cancel_at_end);
  if (drained && r.discarded != 0) violation(rc, "drain discarded tasks");
  if (r.still_running != 0) violation(rc, "the final shutdown left tasks running");
  if (r.ran < t.ran_once) violation(rc, "the report counts fewer runs than the ledger");
  if (r.exceptions != detached_threw.load()) violation(rc, "on_exception calls != report");
  if (discard_calls.load() != r.discarded)
    violation(rc, "on_discard calls != the report's discarded");
  if (lim != nullptr) {
    lim->sem.set_capacity(lim->cap);  // back up from where the producers left it
    if (lim->over.load()) violation(rc, "a semaphore's tasks held more units than its capacity");
    if (lim->overlap.load()) violation(rc, "two tasks of one strand ran at once");
    if (lim->sem.waiting() != 0 || lim->sem.available() != lim->cap)
      violation(rc, "a semaphore kept units or waiting tasks after shutdown");
  }
  return accepted;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::mt19937_64 rng(o.seed);
  const auto start = clock_type::now();
  const auto deadline = start + std::chrono::duration<double>(o.seconds);
  std::uint64_t tasks = 0, rounds = 0;
  std::printf("magpie-stress: seed %llu\n", static_cast<unsigned long long>(o.seed));
  std::fflush(stdout);
  {
    progress report(start);
    while (o.tasks != 0 ? tasks < o.tasks : clock_type::now() < deadline) {
      const std::uint64_t n = run_round(pick(rng, o), o);
      tasks += n;
      ++rounds;
      report.round_done(n);
    }
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("magpie-stress: OK: %llu rounds, %llu tasks in %.1f s (seed %llu)\n",
              static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(tasks), secs,
              static_cast<unsigned long long>(o.seed));
  return 0;
}

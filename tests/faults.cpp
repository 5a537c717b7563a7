// Misuse that ends the process, could hang, or needs a resource to run out: each case runs in
// a forked child (tests/child_process.hpp) killed if it outlives its time, and checks how it
// ended and what it wrote to stderr.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "child_process.hpp"
#include "magpie/magpie.h"
#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::child_result;
using magpie::test::gate;
using magpie::test::run_in_child;
using magpie::test::with_workers;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Threads of this process, from /proc.
int thread_count() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

[[noreturn]] void wait_to_be_killed() {
  for (;;)
    pause();
}

void c_destroy_group(void* g) {
  magpie_group_destroy(static_cast<magpie_group*>(g));
}

}  // namespace

TEST_CASE("a task_group destroyed by one of its own tasks aborts naming the misuse" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    runtime rt(with_workers(2));
    gate sibling;
    auto* g = new task_group(rt);
    g->spawn([&] { sibling.pass(); });  // a sibling still running when the group goes
    sibling.wait_entered();
    g->spawn([g] { delete g; });
    wait_to_be_killed();
    return 0;
  });
  CHECK(r.signal == SIGABRT);
  CHECK(contains(r.err, "task_group (magpie_group) was destroyed by one of its own tasks"));
}

TEST_CASE("magpie_group_destroy from one of the group's own tasks aborts naming the misuse" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    magpie_runtime* rt = nullptr;
    magpie_group* g = nullptr;
    if (magpie_runtime_create(1, 0, 0, &rt) != MAGPIE_OK) return 1;
    if (magpie_group_create(rt, &g) != MAGPIE_OK) return 2;
    magpie_group_spawn(g, c_destroy_group, g);
    wait_to_be_killed();
    return 0;
  });
  CHECK(r.signal == SIGABRT);
  CHECK(contains(r.err, "was destroyed by one of its own tasks"));
}

TEST_CASE("a runtime destroyed by its own task when no helper thread can start aborts saying so" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    if (!test::become_unprivileged()) return test::child_skipped;
    auto* rt = new runtime(with_workers(1));
    test::limit_threads(1);  // the two threads already running are over it: no new one
    rt->submit([rt] { delete rt; });
    wait_to_be_killed();
    return 0;
  });
  if (r.exit_code == test::child_skipped) {
    MESSAGE("skipped: cannot become an unprivileged user, and RLIMIT_NPROC does not bind root");
    return;
  }
  CHECK(r.signal == SIGABRT);
  CHECK(contains(r.err, "cannot start the thread that finishes a runtime destroyed by its own"));
  CHECK(!contains(r.err, "shutdown called from one of the runtime's own workers"));
}

TEST_CASE("on_stall calling shutdown() shuts the runtime down instead of terminating" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    gate stuck;
    std::atomic<int> stalls{0};
    shutdown_report from_handler;
    std::unique_ptr<runtime> rt;
    config c = with_workers(1);
    c.stall_threshold = std::chrono::milliseconds(20);
    c.on_stall = [&](const stall_info&) {
      stalls.fetch_add(1);
      stuck.release();                // the stalled task can finish now
      from_handler = rt->shutdown();  // on the monitor thread, which must not join itself
    };
    rt = std::make_unique<runtime>(c);
    stuck.occupy(*rt);
    while (!stuck.open.load())
      std::this_thread::yield();  // wait for on_stall (the monitor looks every 10 ms)
    const shutdown_report again = rt->shutdown();
    rt.reset();  // joins the monitor, which has returned from on_stall by now or soon
    return stalls.load() == 1 && again.ran == 1 && from_handler.ran == 1 ? 0 : 1;
  });
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
  CHECK(!contains(r.err, "terminate"));
}

TEST_CASE("on_discard calling shutdown() while shutdown_for discards behind a stuck task" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    gate stuck;
    std::atomic<int> discards{0};
    shutdown_report inner;
    std::unique_ptr<runtime> rt;
    config c = with_workers(1);
    c.on_discard = [&](priority) {
      if (discards.fetch_add(1) == 0) {
        stuck.release();
        inner = rt->shutdown();  // joins: the stuck task can finish now
      }
    };
    rt = std::make_unique<runtime>(c);
    stuck.occupy(*rt);
    for (int i = 0; i < 3; ++i)
      rt->submit([] {});
    const shutdown_report first = rt->shutdown_for(std::chrono::milliseconds(0));
    // The three queued tasks were discarded behind the stuck one; the handler's shutdown()
    // joined once that one was let go.
    const bool ok = first.discarded == 3 && discards.load() == 3 && inner.ran == 1 &&
                    inner.discarded == 3 && inner.still_running == 0;
    return ok ? 0 : 1;
  });
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
}

TEST_CASE("an on_discard that re-queues into the runtime does not livelock shutdown(cancel)" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    gate stuck;
    std::atomic<int> discards{0};
    std::atomic<int> refused{0};
    runtime* self = nullptr;
    config c = with_workers(2);
    c.on_discard = [&](priority p) {
      discards.fetch_add(1);
      try {
        self->submit([] {}, p);  // "re-queue", as config.hpp once suggested
      } catch (const runtime_closed&) {
        refused.fetch_add(1);
      }
    };
    runtime rt(c);
    self = &rt;
    gate a;
    gate b;
    rt.submit([&] { a.pass(); });
    rt.submit([&] { b.pass(); });
    a.wait_entered();
    b.wait_entered();
    for (int i = 0; i < 100; ++i)
      rt.submit([] {});
    std::atomic<int> more{0};
    std::thread opener([&] {
      // A refused try_submit means closed, and cancel is set before closed: every task queued
      // from here on is discarded, not run.
      while (rt.try_submit([] {}))
        more.fetch_add(1);
      a.release();
      b.release();
    });
    const shutdown_report rep = rt.shutdown(shutdown_mode::cancel);
    opener.join();
    const int queued = 100 + more.load();
    const bool ok = rep.ran == 2 && rep.discarded == static_cast<std::uint64_t>(queued) &&
                    discards.load() == queued && refused.load() == queued;
    return ok ? 0 : 1;
  });
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
}

TEST_CASE("an on_exception handler that throws: both messages reach stderr" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    config c = with_workers(1);
    c.on_exception = [](std::exception_ptr) { throw std::runtime_error("handler-said-this"); };
    runtime rt(c);
    rt.submit([] { throw std::runtime_error("task-said-this"); });
    return rt.shutdown().exceptions == 1 ? 0 : 1;
  });
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "config.on_exception threw: handler-said-this"));
  CHECK(contains(r.err, "task-said-this"));
}

TEST_CASE("future::wait, wait_for and get inside the future's own task are logic_errors" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    runtime rt(with_workers(1));
    std::atomic<future<int>*> self{nullptr};
    std::atomic<int> caught{0};
    future<int> f = rt.async([&] {
      future<int>* me = nullptr;
      while ((me = self.load()) == nullptr)
        std::this_thread::yield();
      try {
        me->wait();
      } catch (const std::logic_error& e) {
        if (std::string(e.what()).find("magpie::future::wait called from the future's own task") !=
            std::string::npos)
          caught.fetch_add(1);
      }
      try {
        me->wait_for(std::chrono::seconds(100));
      } catch (const std::logic_error&) {
        caught.fetch_add(1);
      }
      return 7;
    });
    self.store(&f);
    return f.get() == 7 && caught.load() == 2 ? 0 : 1;
  });
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
}

TEST_CASE("HWLOC_SYNTHETIC in the environment: explicit cpus are an error, the worker limit holds" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    setenv("HWLOC_SYNTHETIC", "pu:8", 1);
    config c;
    c.cpus = {5};
    try {
      runtime rt(c);
      return 1;  // accepted and bound to nothing
    } catch (const std::invalid_argument& e) {
      const std::string m = e.what();
      if (m.find("config.cpus") == std::string::npos ||
          m.find("HWLOC_SYNTHETIC") == std::string::npos)
        return 2;
    }
    {
      runtime rt;  // without cpus it runs, unbound (the PUs are not this machine's)
      for (int cpu : rt.worker_cpus())
        if (cpu != -1) return 3;
      if (rt.worker_count() != 8) return 4;
    }
    setenv("HWLOC_SYNTHETIC", "pu:5000", 1);
    try {
      runtime rt;
      return 5;
    } catch (const std::invalid_argument& e) {
      if (std::string(e.what()).find("HWLOC_SYNTHETIC") == std::string::npos) return 6;
    }
    return 0;
  });
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
}

TEST_CASE("a bad HWLOC_XMLFILE is named in the error" * doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    const std::string path = "/tmp/magpie-bad-topology-" + std::to_string(getpid()) + ".xml";
    std::ofstream(path) << "<not a topology";
    setenv("HWLOC_XMLFILE", path.c_str(), 1);
    int code = 1;
    try {
      runtime rt;
    } catch (const std::runtime_error& e) {
      code = std::string(e.what()).find("HWLOC_XMLFILE") != std::string::npos ? 0 : 2;
    }
    std::remove(path.c_str());
    return code;
  });
  CHECK(r.exit_code == 0);
}

TEST_CASE("thread creation failing in the constructor: a clean system_error, nothing left over" *
          doctest::timeout(120)) {
  const child_result r = run_in_child([] {
    if (!test::become_unprivileged()) return test::child_skipped;
    const rlimit old = test::limit_threads(3);  // this thread and two workers, then no more
    try {
      runtime rt(with_workers(4));
      return 1;
    } catch (const std::system_error&) {
    }
    setrlimit(RLIMIT_NPROC, &old);
    if (thread_count() != 1) return 2;  // every worker that did start was joined
    runtime rt(with_workers(2));        // and the process can start a runtime again
    std::atomic<int> ran{0};
    for (int i = 0; i < 100; ++i)
      rt.submit([&] { ran.fetch_add(1); });
    return rt.shutdown().ran == 100 && ran.load() == 100 ? 0 : 3;
  });
  if (r.exit_code == test::child_skipped) {
    MESSAGE("skipped: cannot become an unprivileged user, and RLIMIT_NPROC does not bind root");
    return;
  }
  CHECK(r.exit_code == 0);
}

TEST_CASE("out of memory during external submits: bad_alloc, and the books still balance" *
          doctest::timeout(120)) {
  if (test::sanitized) return;  // ASan's shadow memory does not live under RLIMIT_AS
  const child_result r = run_in_child([] {
    runtime rt(with_workers(1));
    gate stuck;
    stuck.occupy(rt);
    std::atomic<long> ran{0};
    rlimit old{};
    getrlimit(RLIMIT_AS, &old);
    rlimit lim = old;
    lim.rlim_cur = 0;
    {
      std::ifstream in("/proc/self/status");
      for (std::string line; std::getline(in, line);)
        if (line.rfind("VmSize:", 0) == 0) lim.rlim_cur = std::stoul(line.substr(7)) * 1024;
    }
    lim.rlim_cur += 64 << 20;  // room for 64 MiB more
    setrlimit(RLIMIT_AS, &lim);
    long accepted = 0;
    bool out_of_memory = false;
    try {
      for (;;) {
        rt.submit([&ran, pad = std::array<char, 4096>{}] { ran.fetch_add(1 + pad[0]); });
        ++accepted;
      }
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    }
    setrlimit(RLIMIT_AS, &old);
    stuck.release();
    const shutdown_report rep = rt.shutdown();
    const bool ok = out_of_memory && accepted > 0 && ran.load() == accepted &&
                    rep.ran == static_cast<std::uint64_t>(accepted) + 1;
    return ok ? 0 : 1;
  });
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
}

// Out of memory while a worker spawns reaches the spawner as std::bad_alloc with nothing
// accepted: the deque's ring grows, and the task block is taken, before the callable is built.
TEST_CASE("out of memory while spawning on a worker: bad_alloc in the task, books balanced" *
          doctest::timeout(120)) {
  if (test::sanitized) return;
  const child_result r = run_in_child([] {
    runtime rt(with_workers(1));
    std::atomic<long> ran{0};
    long accepted = 0;
    bool out_of_memory = false;
    rt.submit([&] {
      task_group g(rt);
      rlimit old{};
      getrlimit(RLIMIT_AS, &old);
      rlimit lim = old;
      lim.rlim_cur = 0;
      std::ifstream in("/proc/self/status");
      for (std::string line; std::getline(in, line);)
        if (line.rfind("VmSize:", 0) == 0) lim.rlim_cur = std::stoul(line.substr(7)) * 1024;
      lim.rlim_cur += 64 << 20;
      setrlimit(RLIMIT_AS, &lim);
      try {
        for (;;) {
          g.spawn([&ran] { ran.fetch_add(1); });
          ++accepted;
        }
      } catch (const std::bad_alloc&) {
        out_of_memory = true;
      }
      setrlimit(RLIMIT_AS, &old);
      g.wait();
    });
    const shutdown_report rep = rt.shutdown();
    return out_of_memory && ran.load() == accepted &&
                   rep.ran == static_cast<std::uint64_t>(accepted) + 1
               ? 0
               : 1;
  });
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
}

// A task that re-submits itself (a periodic tick) does not keep shutdown(drain) from
// returning: a detached submit from a worker once shutdown began throws runtime_closed.
TEST_CASE("a task that re-submits itself does not keep shutdown(drain) from returning" *
          doctest::timeout(120)) {
  const child_result r = run_in_child(
      [] {
        runtime rt(with_workers(2));
        std::atomic<long> ticks{0};
        std::atomic<bool> refused{false};
        std::function<void()> tick = [&] {
          ticks.fetch_add(1);
          try {
            rt.submit(tick);
          } catch (const runtime_closed&) {
            refused.store(true);
          }
        };
        rt.submit(tick);
        while (ticks.load() < 1000)
          std::this_thread::yield();
        const shutdown_report rep = rt.shutdown();
        return refused.load() && rep.ran == static_cast<std::uint64_t>(ticks.load()) ? 0 : 1;
      },
      30);
  CHECK(r.exit_code == 0);
  CHECK(r.signal == 0);
}

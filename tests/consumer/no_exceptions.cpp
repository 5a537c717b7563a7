// A consumer built with -fno-exceptions (tests/consumer/check.cmake, case no_exceptions).
// With no argument it uses the runtime, task groups, parallel loops and futures, and exits 0.
// With one it makes the named mistake, which the headers would throw for: without exceptions
// the error handler prints the message and the program aborts.
//   closed     submit after shutdown
//   reversed   parallel_for over a reversed range
//   loop       parallel_for after shutdown
//   discarded  future::get of a task that shutdown discarded
// Built with -DCUSTOM_HANDLER, MAGPIE_ON_ERROR is this program's own handler, which logs and
// returns: the program must abort all the same.
#ifdef CUSTOM_HANDLER
#include <cstdio>
inline void log_error(const char* message) {
  std::fprintf(stderr, "custom handler: %s\n", message);
}
#define MAGPIE_ON_ERROR(message) log_error(message)
#endif

#include <magpie/magpie.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "build this file with -fno-exceptions"
#endif

namespace {

int use_everything() {
  magpie::config cfg;
  cfg.workers = 2;
  magpie::runtime rt(cfg);
  std::atomic<long> sum{0};
  magpie::task_group g(rt);
  for (int i = 0; i < 1000; ++i)
    g.spawn([&sum] { sum.fetch_add(1); });
  g.run_and_wait([&sum] { sum.fetch_add(1); });
  magpie::parallel_for(rt, 0, 10000, [&sum](int i) { sum.fetch_add(i % 2); });
  const long total = magpie::parallel_reduce(
      rt, 0, 1000, 0L, [](int i) { return static_cast<long>(i); },
      [](long a, long b) { return a + b; });
  magpie::future<int> f = rt.async([] { return 42; });
  const bool ok = sum.load() == 1001 + 5000 && total == 499500 && f.get() == 42;
  std::printf("no_exceptions consumer: %s\n", ok ? "ok" : "wrong results");
  return ok ? 0 : 1;
}

void submit_after_shutdown() {
  magpie::runtime rt;
  rt.shutdown();
  rt.submit([] {});
}

void reversed_range() {
  magpie::runtime rt;
  magpie::parallel_for(rt, 10, 0, [](int) {});
}

void loop_after_shutdown() {
  magpie::runtime rt;
  rt.shutdown();
  magpie::parallel_for(rt, 0, 1000000, [](int) {});
}

// The only worker is held inside a task while the future's task queues behind it; shutdown_for
// with no time to drain discards it, and get() finds neither value nor error.
void get_discarded() {
  magpie::config cfg;
  cfg.workers = 1;
  magpie::runtime rt(cfg);
  std::atomic<bool> entered{false}, release{false};
  rt.submit([&] {
    entered.store(true);
    while (!release.load())
      std::this_thread::yield();
  });
  while (!entered.load())
    std::this_thread::yield();
  magpie::future<int> f = rt.async([] { return 1; });
  rt.shutdown_for(std::chrono::milliseconds(0));
  release.store(true);
  static_cast<void>(f.get());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return use_everything();
  if (std::strcmp(argv[1], "closed") == 0) submit_after_shutdown();
  if (std::strcmp(argv[1], "reversed") == 0) reversed_range();
  if (std::strcmp(argv[1], "loop") == 0) loop_after_shutdown();
  if (std::strcmp(argv[1], "discarded") == 0) get_discarded();
  std::printf("%s: no error was reported\n", argv[1]);
  return 0;
}

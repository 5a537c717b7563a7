// magpie-trace-demo: runs a small mixed workload with config.trace on and writes the Chrome trace
// (docs/operations.md uses it for the viewer screenshot).
// Usage: magpie-trace-demo [OUT]   (default: trace.json; --help explains)
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <latch>
#include <string>
#include <thread>

#include <magpie/magpie.hpp>

namespace {

// A few microseconds of arithmetic, so tasks are wide enough to see.
std::uint64_t spin_work(std::uint64_t steps) {
  std::uint64_t x = steps;
  for (std::uint64_t i = 0; i < steps; ++i)
    x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

std::uint64_t fib(magpie::runtime& rt, int n) {
  if (n < 2) return spin_work(2000) & 1;
  std::uint64_t a = 0;
  magpie::task_group g(rt);
  g.spawn([&rt, &a, n] { a = fib(rt, n - 1); });
  const std::uint64_t b = fib(rt, n - 2);
  g.wait();
  return a + b;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string arg = argc > 1 ? argv[1] : "";
  if (arg == "-h" || arg == "--help") {
    std::printf(
        "usage: magpie-trace-demo [OUT]\n"
        "Runs a small mixed workload (fork-join trees, submits, quiet gaps in which the\n"
        "workers park) with tracing on and writes its Chrome trace to OUT (default\n"
        "trace.json); tools/trace_html.py makes a page of it for tools/trace_view.html.\n");
    return 0;
  }
  if (argc > 2 || arg.starts_with("-")) {
    std::fprintf(stderr, "magpie-trace-demo: bad arguments\nusage: magpie-trace-demo [OUT]\n");
    return 2;
  }
  const std::string out = argc > 1 ? arg : "trace.json";
  try {
    magpie::config cfg;
    cfg.workers = 4;
    cfg.pin = magpie::pinning::none;
    cfg.trace = true;
    magpie::runtime rt(cfg);
    std::atomic<std::uint64_t> sink{0};
    for (int round = 0; round < 3; ++round) {
      // Fork-join: nested tasks, steals.
      std::latch tree(1);
      rt.submit([&] {
        sink += fib(rt, 12);
        tree.count_down();
      });
      // Outside submissions in every lane while the tree runs.
      std::latch burst(90);
      for (int i = 0; i < 90; ++i) {
        const auto lane = static_cast<magpie::priority>(i % 3);
        rt.submit(
            [&sink, &burst] {
              sink += spin_work(20000);
              burst.count_down();
            },
            lane);
      }
      tree.wait();
      burst.wait();
      // A quiet gap: workers park, then wake for the next round.
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    rt.shutdown();
    rt.write_chrome_trace(out);
    std::printf("wrote %s\n", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "magpie-trace-demo: %s\n", e.what());
    return 1;
  }
  return 0;
}

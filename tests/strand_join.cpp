// magpie::strand's busy path: a submit to a strand whose runner exists joins it with one CAS on
// the count and no reservation (strand_state::try_join). Stress for the races that path adds:
// the runner finishing while producers join (every task runs exactly once, in each producer's
// order, never two at once), and producers joining while shutdown closes the runtime (each
// accepted task runs or is discarded, once; a refused one is neither).
#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "magpie/magpie.hpp"
#include "strand_support.hpp"
#include "test_support.hpp"

namespace {

using magpie::test::order_check;
using magpie::test::scaled;
using magpie::test::with_workers;

}  // namespace

TEST_CASE("bursts to strands that go idle and busy again: exactly once, in order, alone" *
          doctest::timeout(240)) {
  for (std::size_t workers : {1, 2, 4}) {
    CAPTURE(workers);
    magpie::runtime rt(with_workers(workers));
    constexpr std::size_t strands = 4;
    constexpr std::size_t producers = 3;
    std::vector<std::unique_ptr<magpie::strand>> s;
    std::vector<std::unique_ptr<order_check>> checks;
    for (std::size_t i = 0; i < strands; ++i) {
      s.push_back(std::make_unique<magpie::strand>(rt));
      checks.push_back(std::make_unique<order_check>(producers));
    }
    const std::size_t per_producer = scaled(60000);
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        std::vector<std::size_t> seq(strands, 0);
        for (std::size_t i = 0; i < per_producer; ++i) {
          // Short bursts (1..7 tasks) to one strand, then another: runners often finish while
          // a producer joins, so both the join and the reserving path run, interleaved.
          const std::size_t k = (i / (1 + i % 7)) % strands;
          order_check* c = checks[k].get();
          const std::size_t n = ++seq[k];
          if (i % 3 == 0) {
            while (!s[k]->try_submit([c, p, n] { c->task(p, n); })) {
            }
          } else {
            s[k]->submit([c, p, n] { c->task(p, n); });
          }
          if (i % 64 == 0) std::this_thread::yield();  // let runners drain: strands go idle
        }
      });
    }
    for (auto& t : threads)
      t.join();
    rt.wait_idle();
    std::size_t ran = 0;
    for (std::size_t k = 0; k < strands; ++k) {
      CHECK(checks[k]->overlaps.load() == 0);
      CHECK(checks[k]->out_of_order.load() == 0);
      CHECK(s[k]->queued() == 0);
      ran += checks[k]->ran.load();
    }
    CHECK(ran == producers * per_producer);
    CHECK(rt.stats().strand_queued == 0);
  }
}

TEST_CASE("producers racing shutdown: each accepted task runs or is discarded, once" *
          doctest::timeout(240)) {
  for (const auto mode : {magpie::shutdown_mode::drain, magpie::shutdown_mode::cancel}) {
    for (int round = 0; round < 20; ++round) {
      CAPTURE(round);
      std::atomic<std::uint64_t> discarded{0};
      magpie::config cfg = with_workers(2);
      cfg.on_discard = [&](magpie::priority) { discarded.fetch_add(1); };
      magpie::runtime rt(cfg);
      magpie::strand s(rt);
      std::atomic<std::uint64_t> ran{0};
      std::atomic<std::uint64_t> accepted{0};
      std::atomic<int> started{0};
      std::vector<std::thread> threads;
      for (int p = 0; p < 2; ++p) {
        threads.emplace_back([&] {
          started.fetch_add(1);
          std::uint64_t mine = 0;
          for (;;) {
            try {
              s.submit([&ran] { ran.fetch_add(1); });
            } catch (const magpie::runtime_closed&) {
              break;
            }
            ++mine;
          }
          accepted.fetch_add(mine);
        });
      }
      while (started.load() < 2)
        std::this_thread::yield();
      std::this_thread::yield();
      const magpie::shutdown_report r = rt.shutdown(mode);
      for (auto& t : threads)
        t.join();
      // Accepted before the close: run or discarded, each once; none after.
      CHECK(ran.load() + discarded.load() == accepted.load());
      CHECK(r.ran + r.discarded == accepted.load());
      if (mode == magpie::shutdown_mode::drain) CHECK(discarded.load() == 0);
      CHECK(s.queued() == 0);
    }
  }
}

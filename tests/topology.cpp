// topology: allowed PUs, pinning plans and placements, on synthetic, XML and real machines.
// Victim rings have their own suite (tests/victim_rings.cpp).
#include "topology.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using magpie::pinning;
using magpie::detail::placement;
using magpie::detail::topology;

namespace {

// 2 packages x 2 NUMA nodes x 4 L3s x 8 cores x 2 PUs: 64 cores per package, an L3 per 8 cores.
// hwloc numbers the PUs in tree order, so PU p is on core p/2, L3 p/16, node p/64, package p/128.
constexpr const char* big_machine = "package:2 numa:2 l3:4 core:8 pu:2";

// tests/data/asymmetric.xml: package 0 holds NUMA node 0 and one L3 over cores 0-2 (PUs 0-5);
// package 1 holds NUMA node 1 and one L3 over core 3 alone (PUs 6-7).
const std::string asymmetric_xml = MAGPIE_TEST_DATA_DIR "/asymmetric.xml";

std::vector<int> iota_plan(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::string error_of(const std::string& description) {
  try {
    const topology t(description);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("compact order follows the topology; scatter alternates packages, then cores") {
  const topology t("package:2 core:2 pu:2");
  CHECK(t.is_synthetic());
  CHECK(t.allowed_pus() == std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(t.scatter_order() == std::vector<unsigned>{0, 4, 2, 6, 1, 5, 3, 7});
}

TEST_CASE("plans wrap around when there are more workers than PUs") {
  const topology t("package:1 core:2 pu:1");
  CHECK(t.plan(pinning::compact, 5, {}) == std::vector<int>{0, 1, 0, 1, 0});
  CHECK(t.plan(pinning::none, 2, {}) == std::vector<int>{-1, -1});
  CHECK(t.plan(pinning::scatter, 1, {1}) == std::vector<int>{1});
  CHECK(t.plan(pinning::none, 3, {1, 0}) == std::vector<int>{1, 0, 1});  // cpus override pin
  CHECK_THROWS_AS(t.plan(pinning::compact, 1, {2}), std::invalid_argument);
}

TEST_CASE("the hwloc synthetic spellings numa/NUMANode and l3/L3Cache are accepted") {
  const topology a(big_machine);
  const topology b("pack:2 NUMANode:2 L3Cache:4 core:8 pu:2");
  for (const topology* t : {&a, &b}) {
    const auto n = t->counts();
    CHECK(n.packages == 2);
    CHECK(n.numa_nodes == 4);
    CHECK(n.l3_caches == 16);
    CHECK(n.cores == 128);
    CHECK(n.pus == 256);
  }
}

TEST_CASE("on a two-socket 128-core machine compact fills L3s in order and scatter deals out") {
  const topology t(big_machine);
  CHECK(t.plan(pinning::compact, 256, {}) == iota_plan(256));
  // Scatter is a mixed-radix digit reversal: the fastest-changing choice is the package, then
  // the NUMA node, the L3, the core, and the hyperthread last.
  std::vector<int> expected;
  for (int pu = 0; pu < 2; ++pu)
    for (int core = 0; core < 8; ++core)
      for (int l3 = 0; l3 < 4; ++l3)
        for (int numa = 0; numa < 2; ++numa)
          for (int package = 0; package < 2; ++package)
            expected.push_back(package * 128 + numa * 64 + l3 * 16 + core * 2 + pu);
  CHECK(t.plan(pinning::scatter, 256, {}) == expected);
  CHECK(t.plan(pinning::scatter, 6, {}) == std::vector<int>{0, 128, 64, 192, 16, 144});
}

TEST_CASE("placement names the core, L3, NUMA node and package of each worker's PU") {
  const topology t(big_machine);
  const auto where = t.place(iota_plan(256));
  REQUIRE(where.size() == 256);
  for (int p = 0; p < 256; ++p) {
    const placement expected{p, p / 2, p / 16, p / 64, p / 128};
    CHECK(where[static_cast<std::size_t>(p)] == expected);
  }
  CHECK(t.place({-1, 255}) == std::vector<placement>{{}, {255, 127, 15, 3, 1}});
  CHECK_THROWS_AS(t.place({256}), std::invalid_argument);
}

TEST_CASE("levels hwloc does not report: no L3 is -1, no package is package 0") {
  const topology t("core:2 pu:2");
  CHECK(t.place({0, 3}) == std::vector<placement>{{0, 0, -1, 0, 0}, {3, 1, -1, 0, 0}});
}

TEST_CASE("an asymmetric machine from an XML file: scatter weighs packages by their PUs") {
  const topology t(asymmetric_xml);
  CHECK(t.is_synthetic());
  const auto n = t.counts();
  CHECK(n.packages == 2);
  CHECK(n.numa_nodes == 2);
  CHECK(n.l3_caches == 2);
  CHECK(n.cores == 4);
  CHECK(n.pus == 8);
  CHECK(t.allowed_pus() == std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7});
  // Plain round robin would put worker 3 on PU 7, the small package's second hyperthread, while
  // package 0 still has an idle core.
  CHECK(t.scatter_order() == std::vector<unsigned>{0, 6, 2, 4, 1, 7, 3, 5});
  CHECK(t.place({5, 6}) == std::vector<placement>{{5, 2, 0, 0, 0}, {6, 3, 1, 1, 1}});
}

TEST_CASE("XML text in config.synthetic_topology is read like the XML file") {
  std::ifstream in(asymmetric_xml);
  REQUIRE(in);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const topology from_text(text);
  const topology from_file(asymmetric_xml);
  CHECK(from_text.is_synthetic());
  CHECK(from_text.scatter_order() == from_file.scatter_order());
  CHECK(from_text.place(iota_plan(8)) == from_file.place(iota_plan(8)));
}

TEST_CASE("bad descriptions are rejected naming config.synthetic_topology") {
  for (const char* bad :
       {"package:banana", "<topology>not hwloc</topology>", "/nonexistent/machine.xml"}) {
    CAPTURE(bad);
    CHECK(error_of(bad).find("config.synthetic_topology") != std::string::npos);
  }
}

TEST_CASE("a single-PU machine plans everything on PU 0") {
  const topology t("pu:1");
  CHECK(t.allowed_pus() == std::vector<unsigned>{0});
  CHECK(t.scatter_order() == std::vector<unsigned>{0});
  CHECK(t.plan(pinning::scatter, 3, {}) == std::vector<int>{0, 0, 0});
  CHECK(t.place({0}) == std::vector<placement>{{0, 0, -1, 0, 0}});
}

TEST_CASE("the machine's own topology lists at least one allowed PU") {
  const topology t;
  CHECK_FALSE(t.is_synthetic());
  CHECK_FALSE(t.allowed_pus().empty());
  const auto where = t.place(t.plan(pinning::compact, t.allowed_pus().size(), {}));
  CHECK(std::all_of(where.begin(), where.end(), [](const placement& p) {
    return p.bound() && p.core >= 0 && p.numa >= 0 && p.package >= 0;
  }));
}

TEST_CASE("a runtime on the synthetic 256-PU machine runs 256 unpinned workers" *
          doctest::timeout(120)) {
  auto c = magpie::test::with_workers(256);
  c.synthetic_topology = big_machine;
  magpie::runtime rt(c);
  REQUIRE(rt.worker_count() == 256);
  const auto cpus = rt.worker_cpus();
  CHECK(std::all_of(cpus.begin(), cpus.end(), [](int x) { return x == -1; }));
  const int tasks = static_cast<int>(magpie::test::scaled(5000));
  std::atomic<int> n{0};
  magpie::task_group g(rt);
  for (int i = 0; i < tasks; ++i)
    g.spawn([&] { n.fetch_add(1); });
  g.wait();
  CHECK(n.load() == tasks);
}

TEST_CASE("a runtime started under taskset -c 1 uses exactly PU 1" * doctest::timeout(60)) {
  const topology here;
  const auto& pus = here.allowed_pus();
  if (std::system("command -v taskset >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: taskset is not installed");
    return;
  }
  if (pus.size() < 2 || std::find(pus.begin(), pus.end(), 1u) == pus.end()) {
    MESSAGE("skipped: this process may not use two PUs including PU 1");
    return;
  }
  // The helper builds a default runtime and prints worker_cpus(), comma-separated.
  FILE* child = popen("taskset -c 1 '" MAGPIE_PRINT_WORKER_CPUS "'", "r");
  REQUIRE(child != nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, child) != nullptr)
    out += buf;
  CHECK(pclose(child) == 0);
  CHECK(out == "1\n");
}

namespace {

// Spawn trees deep enough that idle workers steal; returns the summed worker stats.
magpie::worker_stats steal_totals(
    magpie::config c, magpie::detail::steal_order victims = magpie::detail::steal_order::topology) {
  magpie::runtime rt(c, victims);
  std::atomic<int> leaves{0};
  const auto grow = [&](auto& self, int depth) -> void {
    if (depth == 0) {
      leaves.fetch_add(1);
      return;
    }
    magpie::task_group g(rt);
    g.spawn([&] { self(self, depth - 1); });
    g.spawn([&] { self(self, depth - 1); });
    g.wait();
  };
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> done{false};
    rt.submit([&] {
      grow(grow, 10);
      done.store(true);
      done.notify_one();
    });
    done.wait(false);
  }
  rt.shutdown();
  CHECK(leaves.load() == 20 * 1024);
  magpie::worker_stats sum;
  for (const auto& w : rt.stats().workers) {
    sum.stolen += w.stolen;
    sum.steals_near += w.steals_near;
    sum.steals_far += w.steals_far;
  }
  CHECK(sum.steals_near + sum.steals_far == sum.stolen);
  MESSAGE("stolen " << sum.stolen << ": near " << sum.steals_near << ", far " << sum.steals_far);
  return sum;
}

}  // namespace

TEST_CASE("on one NUMA node every steal is near; random order and unbound workers steal far" *
          doctest::timeout(120)) {
  auto c = magpie::test::with_workers(4);
  c.synthetic_topology = "package:1 numa:1 l3:2 core:2 pu:1";
  const magpie::worker_stats one_node = steal_totals(c);
  CHECK(one_node.steals_far == 0);

  // One ring of everybody, as if unplaced.
  CHECK(steal_totals(c, magpie::detail::steal_order::random).steals_near == 0);

  c = magpie::test::with_workers(4, pinning::none);
  const magpie::worker_stats unbound = steal_totals(c);
  CHECK(unbound.steals_near == 0);
}

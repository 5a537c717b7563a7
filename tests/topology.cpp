#include "topology.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <stdexcept>
#include <vector>

#include "magpie/magpie.hpp"

using magpie::pinning;
using magpie::detail::topology;

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
  CHECK_THROWS_AS(t.plan(pinning::compact, 1, {2}), std::invalid_argument);
}

TEST_CASE("a two-socket, four-NUMA-node, 256-PU machine scatters across sockets first") {
  const topology t("package:2 numa:2 core:32 pu:2");
  REQUIRE(t.allowed_pus().size() == 256);
  const auto& s = t.scatter_order();
  REQUIRE(s.size() == 256);
  CHECK(std::set<unsigned>(s.begin(), s.end()).size() == 256);  // a permutation
  // PU os index / 128 is the package, / 64 the NUMA node, / 2 the core.
  CHECK(s[0] / 128 != s[1] / 128);
  std::set<unsigned> numa_of_first4;
  for (int i = 0; i < 4; ++i)
    numa_of_first4.insert(s[i] / 64);
  CHECK(numa_of_first4.size() == 4);
  std::set<unsigned> cores_of_first128;
  for (int i = 0; i < 128; ++i)
    cores_of_first128.insert(s[i] / 2);
  CHECK(cores_of_first128.size() == 128);  // no second hyperthread before every core has one
}

TEST_CASE("a single-PU machine plans everything on PU 0") {
  const topology t("pu:1");
  CHECK(t.allowed_pus() == std::vector<unsigned>{0});
  CHECK(t.plan(pinning::scatter, 3, {}) == std::vector<int>{0, 0, 0});
}

TEST_CASE("the machine's own topology lists at least one allowed PU") {
  const topology t;
  CHECK_FALSE(t.is_synthetic());
  CHECK_FALSE(t.allowed_pus().empty());
}

TEST_CASE("a runtime on a synthetic big machine runs one unpinned worker per PU") {
  magpie::config c;
  c.synthetic_topology = "package:2 core:16 pu:2";
  magpie::runtime rt(c);
  REQUIRE(rt.worker_count() == 64);
  const auto cpus = rt.worker_cpus();
  CHECK(std::all_of(cpus.begin(), cpus.end(), [](int x) { return x == -1; }));
  std::atomic<int> n{0};
  magpie::task_group g(rt);
  for (int i = 0; i < 10000; ++i)
    g.spawn([&] { n.fetch_add(1); });
  g.wait();
  CHECK(n.load() == 10000);
}

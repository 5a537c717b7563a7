// victim_rings: every worker's victims grouped near to far, checked exactly on synthetic
// machines and on hand-made placements.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "topology.hpp"

using magpie::pinning;
using magpie::detail::placement;
using magpie::detail::steal_distance;
using magpie::detail::topology;
using magpie::detail::victim_rings;
using rings_list = std::vector<std::vector<std::uint32_t>>;

namespace {

constexpr const char* big_machine = "package:2 numa:2 l3:4 core:8 pu:2";
const std::string asymmetric_xml = MAGPIE_TEST_DATA_DIR "/asymmetric.xml";

// On big_machine PU p is on core p/2, L3 p/16, NUMA node p/64, package p/128.
steal_distance big_machine_distance(int a, int b) {
  if (a < 0 || b < 0 || a / 128 != b / 128) return steal_distance::machine;
  if (a / 64 != b / 64) return steal_distance::package;
  if (a / 2 == b / 2) return steal_distance::core;
  if (a / 16 == b / 16) return steal_distance::l3;
  return steal_distance::numa;
}

// The rings worker w should have when worker i runs on pus[i] of big_machine, with distances.
std::pair<rings_list, std::vector<steal_distance>> big_machine_rings(const std::vector<int>& pus,
                                                                     std::size_t w) {
  std::array<std::vector<std::uint32_t>, 5> by;
  for (std::size_t v = 0; v < pus.size(); ++v) {
    if (v != w) by[static_cast<std::size_t>(big_machine_distance(pus[w], pus[v]))].push_back(v);
  }
  std::pair<rings_list, std::vector<steal_distance>> out;
  for (std::size_t d = 0; d < by.size(); ++d) {
    if (by[d].empty()) continue;
    out.first.push_back(by[d]);
    out.second.push_back(static_cast<steal_distance>(d));
  }
  return out;
}

// Worker indexes first, first + 1, ..., last - 1.
std::vector<std::uint32_t> span(std::uint32_t first, std::uint32_t last) {
  std::vector<std::uint32_t> v(last - first);
  std::iota(v.begin(), v.end(), first);
  return v;
}

std::vector<steal_distance> distances(const victim_rings& r, std::size_t w) {
  std::vector<steal_distance> out;
  for (std::size_t k = 0; k < r.ring_count(w); ++k)
    out.push_back(r.ring(w, k).distance());
  return out;
}

// Checks every worker's rings against big_machine_rings, and that distance() agrees.
void check_big_machine(const victim_rings& r, const std::vector<int>& pus) {
  REQUIRE(r.workers() == pus.size());
  for (std::size_t w = 0; w < pus.size(); ++w) {
    CAPTURE(w);
    const auto [lists, dists] = big_machine_rings(pus, w);
    CHECK(r.lists(w) == lists);
    CHECK(distances(r, w) == dists);
    bool agree = true;
    for (std::size_t v = 0; v < pus.size(); ++v)
      agree = agree && (v == w || r.distance(w, v) == big_machine_distance(pus[w], pus[v]));
    CHECK(agree);
  }
}

}  // namespace

TEST_CASE("compact on the two-socket machine: rings are core, L3, NUMA node, package, rest") {
  const topology t(big_machine);
  const auto plan = t.plan(pinning::compact, 256, {});
  const auto r = t.rings(plan);
  CHECK(r.lists(0) == rings_list{{1}, span(2, 16), span(16, 64), span(64, 128), span(128, 256)});
  CHECK(distances(r, 0) ==
        std::vector<steal_distance>{steal_distance::core, steal_distance::l3, steal_distance::numa,
                                    steal_distance::package, steal_distance::machine});
  check_big_machine(r, plan);
  for (std::size_t w = 0; w < 256; ++w)
    CHECK(r.where(w).numa == static_cast<int>(w / 64));
}

TEST_CASE("scatter with one worker per core drops the empty same-core ring") {
  const topology t(big_machine);
  const auto plan = t.plan(pinning::scatter, 128, {});
  const auto r = t.rings(plan);
  CHECK(distances(r, 0) == std::vector<steal_distance>{steal_distance::l3, steal_distance::numa,
                                                       steal_distance::package,
                                                       steal_distance::machine});
  // Workers 1..15 take the other packages', NUMA nodes' and L3s' turns; every 16th worker is
  // back on worker 0's L3, on its next core.
  CHECK(r.lists(0).front() == std::vector<std::uint32_t>{16, 32, 48, 64, 80, 96, 112});
  check_big_machine(r, plan);
}

TEST_CASE("explicit cpus and wrap-around: workers sharing a PU are on the same core") {
  const topology t(big_machine);
  const auto plan = t.plan(pinning::compact, 5, {0, 2, 128});  // PUs 0, 2, 128, 0, 2
  const auto r = t.rings(plan);
  CHECK(r.lists(0) == rings_list{{3}, {1, 4}, {2}});
  CHECK(distances(r, 0) == std::vector<steal_distance>{steal_distance::core, steal_distance::l3,
                                                       steal_distance::machine});
  CHECK(r.lists(2) == rings_list{{0, 1, 3, 4}});
  check_big_machine(r, plan);
}

TEST_CASE("unbound workers see everybody in one machine ring") {
  const topology t(big_machine);
  const auto r = t.rings(t.plan(pinning::none, 4, {}));
  for (std::uint32_t w = 0; w < 4; ++w) {
    std::vector<std::uint32_t> others;
    for (std::uint32_t v = 0; v < 4; ++v)
      if (v != w) others.push_back(v);
    CHECK(r.lists(w) == rings_list{others});
    CHECK(distances(r, w) == std::vector<steal_distance>{steal_distance::machine});
  }
  check_big_machine(r, {-1, -1, -1, -1});
}

TEST_CASE("a bound worker puts unbound ones in its machine ring") {
  // Hand-made placements: no hwloc involved.
  const victim_rings r({{0, 0, 0, 0, 0}, {}, {1, 0, 0, 0, 0}, {2, 1, 0, 0, 0}});
  CHECK(r.lists(0) == rings_list{{2}, {3}, {1}});
  CHECK(distances(r, 0) == std::vector<steal_distance>{steal_distance::core, steal_distance::l3,
                                                       steal_distance::machine});
  CHECK(r.lists(1) == rings_list{{0, 2, 3}});
  CHECK(r.distance(0, 1) == steal_distance::machine);
  CHECK(r.distance(1, 0) == steal_distance::machine);
}

TEST_CASE("without an L3 nobody shares one: cores go straight to the NUMA ring") {
  const topology t("package:1 core:2 pu:1");
  const auto r = t.rings(t.plan(pinning::compact, 5, {}));  // PUs 0, 1, 0, 1, 0
  CHECK(r.lists(0) == rings_list{{2, 4}, {1, 3}});
  CHECK(distances(r, 0) == std::vector<steal_distance>{steal_distance::core, steal_distance::numa});
  CHECK(r.distance(0, 1) == steal_distance::numa);
}

TEST_CASE("a NUMA node split across an L3 (sub-NUMA clustering) still ranks memory first") {
  // One package, one L3 over two NUMA nodes: the other node's workers are package-distance.
  const victim_rings r({{0, 0, 0, 0, 0}, {1, 1, 0, 0, 0}, {2, 2, 0, 1, 0}});
  CHECK(r.lists(0) == rings_list{{1}, {2}});
  CHECK(distances(r, 0) ==
        std::vector<steal_distance>{steal_distance::l3, steal_distance::package});
}

TEST_CASE("the asymmetric machine: the lone core's workers have only far victims left") {
  const topology t(asymmetric_xml);
  const auto r = t.rings(t.plan(pinning::compact, 8, {}));
  CHECK(r.lists(0) == rings_list{{1}, {2, 3, 4, 5}, {6, 7}});
  CHECK(distances(r, 0) == std::vector<steal_distance>{steal_distance::core, steal_distance::l3,
                                                       steal_distance::machine});
  CHECK(r.lists(6) == rings_list{{7}, {0, 1, 2, 3, 4, 5}});
  CHECK(distances(r, 6) ==
        std::vector<steal_distance>{steal_distance::core, steal_distance::machine});
  CHECK(r.where(6).numa == 1);
}

TEST_CASE("a single PU: one worker has no victims, more share the core") {
  const topology t("pu:1");
  const auto one = t.rings(t.plan(pinning::compact, 1, {}));
  CHECK(one.ring_count(0) == 0);
  CHECK(one.lists(0).empty());
  const auto three = t.rings(t.plan(pinning::compact, 3, {}));
  CHECK(three.lists(1) == rings_list{{0, 2}});
  CHECK(distances(three, 1) == std::vector<steal_distance>{steal_distance::core});
}

TEST_CASE("near means the victim shares the thief's NUMA node") {
  using magpie::detail::is_near;
  CHECK(is_near(steal_distance::core));
  CHECK(is_near(steal_distance::l3));
  CHECK(is_near(steal_distance::numa));
  CHECK_FALSE(is_near(steal_distance::package));
  CHECK_FALSE(is_near(steal_distance::machine));
  CHECK(std::string(to_string(steal_distance::package)) == "package");
}

TEST_CASE("a ring view wraps from its inner part to its outer part") {
  const topology t(big_machine);
  const auto r = t.rings(t.plan(pinning::compact, 256, {}));
  // Worker 20's L3 ring is 16..31 without 20 and 21: the view lists 16..19 then 22..31.
  const auto ring = r.ring(20, 1);
  REQUIRE(ring.size() == 14);
  std::vector<std::uint32_t> seen;
  for (std::size_t i = 0; i < ring.size(); ++i)
    seen.push_back(ring[i]);
  std::vector<std::uint32_t> expected = span(16, 20);
  for (std::uint32_t v : span(22, 32))
    expected.push_back(v);
  CHECK(seen == expected);
}

TEST_CASE("the thief's walk of docs/topology.md tries every victim once, nearer rings first") {
  const topology t(big_machine);
  const auto r = t.rings(t.plan(pinning::compact, 256, {}));
  const std::size_t self = 37;
  std::uint64_t seed = 12345;  // stands in for the worker's own random generator
  const auto next_random = [&seed] {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    return seed >> 33;
  };
  // The walk: each ring in order; within a ring, every victim once from a random start; move
  // outwards only when the whole ring came back empty (here every victim is empty).
  std::vector<std::uint32_t> tried;
  std::vector<steal_distance> tried_at;
  for (std::size_t k = 0; k < r.ring_count(self); ++k) {
    const auto ring = r.ring(self, k);
    const std::size_t start = next_random() % ring.size();
    for (std::size_t i = 0; i < ring.size(); ++i) {
      const std::uint32_t victim = ring[(start + i) % ring.size()];
      tried.push_back(victim);  // a steal attempt on `victim` would go here
      tried_at.push_back(r.distance(self, victim));
    }
  }
  REQUIRE(tried.size() == 255);
  std::vector<int> seen(256, 0);
  for (std::uint32_t v : tried)
    ++seen[v];
  CHECK(seen[self] == 0);
  CHECK(std::count(seen.begin(), seen.end(), 1) == 255);
  CHECK(std::is_sorted(tried_at.begin(), tried_at.end()));
}

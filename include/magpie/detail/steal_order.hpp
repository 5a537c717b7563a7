// A test and benchmark hook: the order in which thieves look at their victims.
#pragma once

namespace magpie::detail {

/// The order in which an idle worker looks at the others' deques. A test and benchmark hook, not
/// API (runtime's second constructor); a runtime otherwise always uses `topology`.
///  topology: near to far (same core, L3, NUMA node, package, the rest; docs/topology.md);
///  random:   everyone in one ring from a random start (what most runtimes do; to compare).
enum class steal_order { topology, random };

}  // namespace magpie::detail

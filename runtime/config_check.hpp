// Checking a runtime's config before anything starts, and resolving its automatic worker counts.
// Out of runtime_core.cpp: plain argument checks, with one clear exception per bad field.
#pragma once

#include <chrono>
#include <cstddef>

#include "magpie/config.hpp"
#include "topology.hpp"

namespace magpie::detail {

/// `c` checked (std::invalid_argument naming the field), with a max_pending of 2^63 or more
/// meaning unbounded, as 0 does.
config validated(config c);
/// Resolves config.workers (0 = one per PU) and config.max_workers (0 = the worker count) in
/// place, and returns the number of threads to start: max_workers. Throws std::invalid_argument
/// for counts the machine `t` cannot meet.
std::size_t resolve_worker_counts(config& c, const topology& t);
/// Throws std::invalid_argument naming `what` unless 0 <= spin <= 1 s.
void validate_spin(const char* what, std::chrono::microseconds spin);

}  // namespace magpie::detail

#pragma once

#include <magpie/magpie.hpp>

// 1 + 2 + ... + n, one task per term.
long sum_to(magpie::runtime& rt, int n);

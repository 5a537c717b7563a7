// Magpie: a lock-free work-stealing task runtime. Umbrella header.
#pragma once

#include "magpie/config.hpp"
#include "magpie/errors.hpp"
#include "magpie/parallel.hpp"
#include "magpie/runtime.hpp"
#include "magpie/shutdown_report.hpp"
#include "magpie/stats.hpp"
#include "magpie/task_group.hpp"

// Magpie: a lock-free work-stealing task runtime. Umbrella header.
#pragma once

#include "magpie/config.hpp"
#include "magpie/coro.hpp"
#include "magpie/errors.hpp"
#include "magpie/future.hpp"
#include "magpie/parallel.hpp"
#include "magpie/runtime.hpp"
#include "magpie/semaphore.hpp"
#include "magpie/shutdown_report.hpp"
#include "magpie/stats.hpp"
#include "magpie/strand.hpp"
#include "magpie/task_group.hpp"
#include "magpie/worker_local.hpp"

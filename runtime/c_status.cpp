#include "c_status.hpp"

#include <cstdio>

namespace {

// magpie_last_error's text: per thread, so runtimes and threads never share it, and a fixed
// buffer, so recording an error cannot itself fail.
thread_local char last_error[512] = "";

}  // namespace

namespace magpie::detail {

magpie_status c_error(magpie_status s, const char* function, const char* what) noexcept {
  std::snprintf(last_error, sizeof last_error, "%s: %s", function, what);
  return s;
}

}  // namespace magpie::detail

extern "C" {

const char* magpie_strerror(magpie_status status) {
  switch (status) {
    case MAGPIE_OK:
      return "success";
    case MAGPIE_ERROR_INVALID_ARGUMENT:
      return "invalid argument (a null handle, function or output pointer, or a bad value)";
    case MAGPIE_ERROR_CLOSED:
      return "the runtime is shut down";
    case MAGPIE_ERROR_FULL:
      return "the runtime's queue is full (max_pending tasks are waiting)";
    case MAGPIE_ERROR_NO_MEMORY:
      return "out of memory";
    case MAGPIE_ERROR_MISUSE:
      return "misuse (e.g. waiting on a group from one of its own tasks)";
    case MAGPIE_ERROR_SYSTEM:
      return "the operating system refused (threads or CPU binding)";
    case MAGPIE_ERROR_INTERNAL:
      return "internal error";
    case MAGPIE_ERROR_TIMEOUT:
      return "timed out (no room in the queue, or the group's tasks still run)";
  }
  return "unknown status";
}

const char* magpie_last_error(void) {
  return last_error;
}

}  // extern "C"

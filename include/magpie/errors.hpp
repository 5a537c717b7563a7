#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>

namespace magpie {

/// Thrown by submit/spawn once the runtime has been shut down (or is shutting down).
class runtime_closed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The default error handler of programs built without exceptions (docs/errors.md): writes
/// "magpie: <message>" to stderr and aborts.
[[noreturn]] inline void print_error_and_abort(const char* message) noexcept {
  std::fprintf(stderr, "magpie: %s\n", message);
  std::abort();
}

}  // namespace magpie

// Programs built with -fno-exceptions: where the public headers would throw, they call
// MAGPIE_ON_ERROR(message) instead, then abort if it returns. Define it (identically in every
// translation unit, e.g. on the command line) before including a Magpie header to log the
// message elsewhere first; by default it is magpie::print_error_and_abort. A macro rather than
// a handler set at run time: nothing global to set, race on or forget in one of several
// runtimes, and it costs nothing where exceptions are on (it is not used there).
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define MAGPIE_EXCEPTIONS 1
#else
#define MAGPIE_EXCEPTIONS 0
#endif

#ifndef MAGPIE_ON_ERROR
#define MAGPIE_ON_ERROR(message) ::magpie::print_error_and_abort(message)
#endif

#if MAGPIE_EXCEPTIONS
#define MAGPIE_THROW(...) throw __VA_ARGS__
#define MAGPIE_TRY try
#define MAGPIE_CATCH(...) catch (__VA_ARGS__)
#define MAGPIE_RETHROW throw
#else
#define MAGPIE_THROW(...) ::magpie::detail::fail_without_exceptions(__VA_ARGS__)
// Without exceptions nothing can be caught: the try block always runs, the handlers never.
#define MAGPIE_TRY if (true)
#define MAGPIE_CATCH(...) else if (false)
#define MAGPIE_RETHROW ::std::abort()

namespace magpie::detail {

/// MAGPIE_THROW without exceptions: hands the error's message to the handler.
[[noreturn]] inline void fail_without_exceptions(const std::exception& e) noexcept {
  MAGPIE_ON_ERROR(e.what());
  std::abort();  // a handler that returned: there is no caller to return to
}

}  // namespace magpie::detail
#endif

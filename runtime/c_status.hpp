// The C API's statuses: translating C++ exceptions into them, and the per-thread text that
// magpie_last_error returns.
#pragma once

#include <exception>
#include <new>
#include <stdexcept>
#include <system_error>

#include "magpie/errors.hpp"
#include "magpie/magpie.h"

namespace magpie::detail {

/// Sets this thread's magpie_last_error text to "function: what" and returns `s`.
magpie_status c_error(magpie_status s, const char* function, const char* what) noexcept;

inline magpie_status c_invalid(const char* function, const char* what) noexcept {
  return c_error(MAGPIE_ERROR_INVALID_ARGUMENT, function, what);
}

/// Runs f (which returns a magpie_status) and turns whatever it throws into a status, so no
/// exception crosses into C (where unwinding through C frames is undefined). Most specific
/// first: invalid_argument and runtime_closed derive from logic_error and runtime_error.
template <class F>
magpie_status c_guarded(const char* function, F&& f) noexcept {
  try {
    return f();
  } catch (const runtime_closed& e) {
    return c_error(MAGPIE_ERROR_CLOSED, function, e.what());
  } catch (const std::invalid_argument& e) {
    return c_error(MAGPIE_ERROR_INVALID_ARGUMENT, function, e.what());
  } catch (const std::bad_alloc& e) {
    return c_error(MAGPIE_ERROR_NO_MEMORY, function, e.what());
  } catch (const std::system_error& e) {
    return c_error(MAGPIE_ERROR_SYSTEM, function, e.what());
  } catch (const std::logic_error& e) {
    return c_error(MAGPIE_ERROR_MISUSE, function, e.what());
  } catch (const std::exception& e) {
    return c_error(MAGPIE_ERROR_INTERNAL, function, e.what());
  } catch (...) {
    return c_error(MAGPIE_ERROR_INTERNAL, function, "a non-standard exception");
  }
}

}  // namespace magpie::detail

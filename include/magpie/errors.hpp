#pragma once

#include <stdexcept>

namespace magpie {

/// Thrown by submit/spawn once the runtime has been shut down (or is shutting down).
class runtime_closed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace magpie

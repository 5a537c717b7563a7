// Compile-time checks that the headers every fork-join user includes stay light: the group
// limiter's queue and mutex live behind an opaque handle (magpie/detail/group_limit.hpp).
// Built with the tests; a failure is a build error that names the header.
#include "magpie/detail/group_limit.hpp"

#if defined(_GLIBCXX_DEQUE) || defined(_LIBCPP_DEQUE)
#error "magpie/detail/group_limit.hpp includes <deque> again (keep it in runtime/group_limiter.hpp)"
#endif
#if defined(_GLIBCXX_MUTEX) || defined(_LIBCPP_MUTEX)
#error "magpie/detail/group_limit.hpp includes <mutex> again (keep it in runtime/group_limiter.hpp)"
#endif

// task_group.hpp as a whole: no <deque>. (<mutex> does reach it, through runtime.hpp ->
// future.hpp -> <future>, which promise's std::future_error needs.)
#include "magpie/task_group.hpp"

#if defined(_GLIBCXX_DEQUE) || defined(_LIBCPP_DEQUE)
#error "magpie/task_group.hpp includes <deque> again"
#endif

#pragma once

// The library is built with hidden visibility; only what carries MAGPIE_API is exported.
#if defined(_WIN32)
#define MAGPIE_API
#else
#define MAGPIE_API __attribute__((visibility("default")))
#endif

// libFuzzer harness: bytes become a configuration and a sequence of API calls (submit,
// try_submit, spawn, nested spawn-and-wait, wait, cancel, shutdown drain/cancel, calls after
// shutdown). After the final shutdown the books must balance: every accepted task ran exactly
// once or the report lists it as discarded or canceled; refused calls accepted nothing.
// The configuration's numeric and duration fields sometimes take extreme values (min, max, just
// out of range), which must be refused with std::invalid_argument or work; the callbacks re-enter
// the runtime (on_discard reads stats and tries to re-queue, which a closed runtime refuses;
// on_stall reads stats), and on_discard must be called once per discarded task.
//
// Build: cmake --preset fuzz && cmake --build --preset fuzz
// Run:   build/fuzz/tests/fuzz/magpie_api_fuzz -max_total_time=60 NEW_DIR tests/fuzz/corpus
#include <magpie/magpie.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

namespace {

class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "magpie_api_fuzz: invariant broken: %s\n", what);
  std::abort();
}

constexpr std::size_t max_tasks = 4096;

struct books {
  std::unique_ptr<std::atomic<std::uint8_t>[]> runs { new std::atomic<std::uint8_t>[ max_tasks ] };
  std::size_t issued = 0;                      // ids handed out (only by the driving thread)
  std::size_t accepted = 0;                    // of those, accepted by the runtime
  std::atomic<std::size_t> inner_accepted{0};  // nested tasks spawned from inside tasks
  std::atomic<std::size_t> inner_ran{0};
  books() {
    for (std::size_t i = 0; i < max_tasks; ++i)
      runs[i].store(0);
  }
};

// What the callbacks see: the runtime (set once it exists) and how often they were called.
struct callbacks {
  magpie::runtime* rt = nullptr;
  std::atomic<std::uint64_t> discards{0};
};

// One byte picks an extreme for one field; `refused` is set when the value is out of range.
template <class T>
T extreme(std::uint8_t b, T normal, std::initializer_list<T> good, std::initializer_list<T> bad,
          bool& refused) {
  const std::size_t g = good.size();
  if (b % 4 != 3) return normal;
  const std::size_t i = b / 4 % (g + bad.size());
  if (i < g) return good.begin()[i];
  refused = true;
  return bad.begin()[i - g];
}

magpie::config make_config(input& in, callbacks& cb, bool& refused) {
  using us = std::chrono::microseconds;
  using ms = std::chrono::milliseconds;
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  magpie::config c;
  c.workers = 1 + in.byte() % 6;
  c.spin = std::chrono::microseconds(in.byte() % 3 == 0 ? 0 : in.byte() % 100);
  c.max_pending = in.byte() % 4 == 0 ? 1 + in.byte() % 16 : 0;
  c.pin = magpie::pinning::none;
  c.on_exception = [](std::exception_ptr) {};
  c.spin = extreme(in.byte(), c.spin, {us(0), us(1), us(1'000'000)},
                   {us::min(), us::max(), us(-1), us(1'000'001)}, refused);
  c.max_pending =
      extreme(in.byte(), c.max_pending, {max, std::size_t{1} << 63, std::size_t{1}}, {}, refused);
  c.stall_threshold = extreme(in.byte(), ms(0), {ms(1), ms(std::chrono::hours(24))},
                              {ms::min(), ms::max(), ms(-1)}, refused);
  c.starvation_limit =
      extreme(in.byte(), c.starvation_limit, {std::size_t{2}, std::size_t{1} << 20},
              {std::size_t{0}, std::size_t{1}, max}, refused);
  c.latency_workers =
      extreme(in.byte(), std::size_t{0}, {std::size_t{1}}, {c.workers + 1, max}, refused);
  c.on_discard = [&cb](magpie::priority) {
    cb.discards.fetch_add(1);
    static_cast<void>(cb.rt->stats());
    try {
      if (cb.rt->try_submit([] {})) fail("on_discard re-queued into a closed runtime");
    } catch (...) {
      fail("try_submit threw inside on_discard");
    }
  };
  c.on_stall = [&cb](const magpie::stall_info&) { static_cast<void>(cb.rt->stats()); };
  return c;
}

// A task that records its run; some throw, some spawn a small group and wait inside.
auto make_task(books& b, std::size_t id, std::uint8_t shape, magpie::runtime& rt) {
  return [&b, id, shape, &rt] {
    b.runs[id].fetch_add(1);
    if (shape % 7 == 0) throw std::runtime_error("fuzz: planned failure");
    if (shape % 5 == 0) {
      magpie::task_group inner(rt);  // nested work, waited for inside the task
      for (int i = 0; i < shape % 4; ++i) {
        inner.spawn([&b] { b.inner_ran.fetch_add(1); });
        b.inner_accepted.fetch_add(1);
      }
      inner.wait();
    }
  };
}

void drive(input& in) {
  callbacks cb;
  bool refused = false;
  const magpie::config cfg = make_config(in, cb, refused);
  books b;
  std::optional<magpie::runtime> rt;
  try {
    rt.emplace(cfg);
  } catch (const std::invalid_argument&) {
    if (!refused) fail("a valid configuration was refused");
    return;
  }
  if (refused) fail("an out-of-range configuration was accepted");
  cb.rt = &*rt;
  magpie::task_group group(*rt);
  bool closed = false;
  magpie::shutdown_report report;

  while (!in.empty() && b.issued < max_tasks) {
    const std::uint8_t op = in.byte();
    const std::uint8_t shape = in.byte();
    switch (op % 7) {
      case 0:
      case 1: {  // submit / try_submit
        const std::size_t id = b.issued++;
        bool accepted = false;
        if (op % 7 == 0 && (cfg.max_pending == 0 || closed)) {
          try {
            rt->submit(make_task(b, id, shape, *rt));
            accepted = true;
          } catch (const magpie::runtime_closed&) {
            if (!closed) fail("submit threw runtime_closed on an open runtime");
          }
        } else {
          accepted = rt->try_submit(make_task(b, id, shape, *rt));
          if (accepted && closed) fail("try_submit accepted after shutdown");
        }
        b.accepted += accepted ? 1 : 0;
        break;
      }
      case 2:
      case 3: {  // spawn into the group
        const std::size_t id = b.issued++;
        try {
          group.spawn(make_task(b, id, shape, *rt));
          ++b.accepted;
        } catch (const magpie::runtime_closed&) {
          if (!closed) fail("spawn threw runtime_closed on an open runtime");
        }
        break;
      }
      case 4:  // wait (rethrows a planned failure at most once)
        try {
          group.wait();
        } catch (const std::runtime_error&) {
          // a planned failure of one of the group's tasks
        }
        break;
      case 5:
        if (shape % 8 == 0) group.cancel();
        break;
      case 6:  // shutdown, drain or cancel; again later is allowed and idempotent
        if (shape % 4 == 0) {
          const auto r = rt->shutdown(shape % 8 == 0 ? magpie::shutdown_mode::cancel
                                                     : magpie::shutdown_mode::drain);
          if (closed && (r.ran != report.ran || r.discarded != report.discarded))
            fail("a second shutdown changed the report");
          report = r;
          closed = true;
        }
        break;
    }
  }
  try {
    group.wait();
  } catch (const std::runtime_error&) {
  }
  report = rt->shutdown(magpie::shutdown_mode::drain);
  std::size_t ran = 0;
  for (std::size_t i = 0; i < b.issued; ++i) {
    const auto n = b.runs[i].load();
    if (n > 1) fail("a task ran twice");
    ran += n;
  }
  const std::size_t accepted = b.accepted + b.inner_accepted.load();
  const std::size_t all_ran = ran + b.inner_ran.load();
  if (accepted != all_ran + report.discarded + report.canceled)
    fail("accepted != ran + discarded + canceled");
  if (report.ran != all_ran) fail("the report's ran differs from the books");
  if (cb.discards.load() != report.discarded) fail("on_discard calls != the report's discarded");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  drive(in);
  return 0;
}

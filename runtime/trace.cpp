#include "trace.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <memory>
#include <system_error>

#include "runtime_core.hpp"

namespace magpie::detail {

trace_ring::trace_ring(std::size_t capacity)
    : capacity_(capacity), slots_(std::make_unique<slot[]>(capacity)) {}

std::vector<trace_event> trace_ring::snapshot(std::uint64_t& lost) const {
  // acquire: pairs with put's release store, so every slot below `published` is complete.
  const std::uint64_t published = published_.load(std::memory_order_acquire);
  const std::uint64_t first = published > capacity_ ? published - capacity_ : 0;
  std::vector<trace_event> out;
  out.reserve(published - first);
  for (std::uint64_t n = first; n < published; ++n) {
    const slot& s = slots_[n % capacity_];
    // relaxed: validated by the claimed_ check below.
    const std::uint64_t kind_arg = s.kind_arg.load(std::memory_order_relaxed);
    out.push_back({s.start.load(std::memory_order_relaxed), s.end.load(std::memory_order_relaxed),
                   static_cast<trace_kind>(kind_arg >> 32),
                   static_cast<std::uint32_t>(kind_arg & 0xffffffffu)});
  }
  // acquire fence, then relaxed: pairs with put's release fence; if any slot read above was
  // written by a newer event, claimed_ now shows that event (seqlock reader side).
  std::atomic_thread_fence(std::memory_order_acquire);
  const std::uint64_t claimed = claimed_.load(std::memory_order_relaxed);
  const std::uint64_t intact_from = claimed > capacity_ ? claimed - capacity_ : 0;
  if (intact_from > first) {
    const std::uint64_t torn = std::min<std::uint64_t>(intact_from - first, out.size());
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(torn));
    lost = first + torn;
  } else {
    lost = first;
  }
  return out;
}

namespace {

// Streams text to a FILE, throwing std::system_error naming the path on any failure.
class json_file {
 public:
  explicit json_file(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "w")) {
    if (f_ == nullptr) fail("cannot open");
  }
  ~json_file() {
    if (f_ != nullptr) std::fclose(f_);
  }
  json_file(const json_file&) = delete;
  json_file& operator=(const json_file&) = delete;

  void text(const char* s) {
    if (std::fputs(s, f_) < 0) fail("cannot write");
  }
  template <class... Args>
  void print(const char* fmt, Args... args) {
    if (std::fprintf(f_, fmt, args...) < 0) fail("cannot write");
  }
  void close() {
    std::FILE* f = f_;
    f_ = nullptr;
    if (std::fclose(f) != 0) fail("cannot write");
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw std::system_error(
        errno, std::generic_category(),
        std::string("magpie::runtime::write_chrome_trace: ") + what + " \"" + path_ + "\"");
  }
  std::string path_;
  std::FILE* f_;
};

// Microseconds with nanosecond digits, from integer nanoseconds: rounding each end point the
// same way keeps nested tasks nested in the output.
struct micros {
  unsigned long long whole;
  unsigned frac;
};
micros to_micros(std::uint64_t ns) {
  return {static_cast<unsigned long long>(ns / 1000), static_cast<unsigned>(ns % 1000)};
}

// Ticks to nanoseconds since `origin`; a clock read on another CPU may be slightly behind it.
struct ns_since {
  std::uint64_t origin;
  double ns_per_tick;
  std::uint64_t operator()(std::uint64_t ticks) const noexcept {
    if (ticks <= origin) return 0;
    return static_cast<std::uint64_t>(
        std::llround(static_cast<double>(ticks - origin) * ns_per_tick));
  }
};

// Worker w's thread row: its name and its place in the viewer.
void write_thread_names(json_file& out, std::size_t w) {
  out.print(
      ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%zu,"
      "\"args\":{\"name\":\"magpie worker %zu\"}}",
      w, w);
  out.print(
      ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":%zu,"
      "\"args\":{\"sort_index\":%zu}}",
      w, w);
}

// One event of worker w: a task as a complete event, the others as instants.
void write_event(json_file& out, const trace_event& e, std::size_t w, const ns_since& ns_at) {
  const std::uint64_t start_ns = ns_at(e.start);
  const micros ts = to_micros(start_ns);
  switch (e.kind) {
    case trace_kind::task: {
      const std::uint64_t end_ns = ns_at(e.end);
      const micros dur = to_micros(end_ns > start_ns ? end_ns - start_ns : 0);
      const char* lane = lane_name(e.arg);
      out.print(
          ",\n{\"name\":\"task\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%llu.%03u,"
          "\"dur\":%llu.%03u,\"pid\":1,\"tid\":%zu,\"args\":{\"lane\":\"%s\"}}",
          lane, ts.whole, ts.frac, dur.whole, dur.frac, w, lane);
      break;
    }
    case trace_kind::steal:
      out.print(
          ",\n{\"name\":\"steal\",\"cat\":\"steal\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%llu.%03u,"
          "\"pid\":1,\"tid\":%zu,\"args\":{\"victim\":%u,\"lane\":\"%s\"}}",
          ts.whole, ts.frac, w, e.arg >> 2, lane_name(e.arg & 3));
      break;
    case trace_kind::park:
    case trace_kind::wake:
      out.print(
          ",\n{\"name\":\"%s\",\"cat\":\"idle\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%llu.%03u,"
          "\"pid\":1,\"tid\":%zu}",
          e.kind == trace_kind::park ? "park" : "wake", ts.whole, ts.frac, w);
      break;
  }
}

}  // namespace

void write_chrome_trace(const std::string& path, const std::vector<const trace_ring*>& rings,
                        std::uint64_t origin, double ns_per_tick) {
  json_file out(path);
  out.text("{\"traceEvents\":[\n");
  out.text(
      "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
      "\"args\":{\"name\":\"magpie\"}}");
  const ns_since ns_at{origin, ns_per_tick};
  std::uint64_t lost_total = 0;
  for (std::size_t w = 0; w < rings.size(); ++w) {
    write_thread_names(out, w);
    std::uint64_t lost = 0;
    for (const trace_event& e : rings[w]->snapshot(lost))
      write_event(out, e, w, ns_at);
    lost_total += lost;
  }
  out.print(
      "\n],\n\"displayTimeUnit\":\"ns\",\n"
      "\"otherData\":{\"producer\":\"magpie\",\"lost_events\":\"%llu\"}}\n",
      static_cast<unsigned long long>(lost_total));
  out.close();
}

void runtime_core::write_chrome_trace(const std::string& path) const {
  if (!cfg_.trace) {
    throw std::logic_error("magpie::runtime::write_chrome_trace: config.trace is off");
  }
  std::vector<const trace_ring*> rings;
  for (const auto& w : workers_)
    rings.push_back(w->trace());
  detail::write_chrome_trace(path, rings, ticks_.origin(), ticks_.ns_per_tick());
}

}  // namespace magpie::detail

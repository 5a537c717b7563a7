#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {

// A hung case fails fast, with its name. doctest checks a case's `doctest::timeout` only when
// the case returns, so a hang would otherwise last until ctest kills the whole suite, naming
// nothing. The watchdog aborts at twice the case's timeout, or after `default_limit` for a case
// without one: doctest itself still fails a slow case that finishes.
class watchdog {
 public:
  static constexpr std::chrono::seconds default_limit{300};

  watchdog() : thread_([this] { watch(); }) {}
  ~watchdog() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

  void start(const char* name, double timeout_s) {
    const auto limit = timeout_s > 0 ? std::chrono::duration<double>(2 * timeout_s)
                                     : std::chrono::duration<double>(default_limit);
    const std::lock_guard<std::mutex> lock(mu_);
    name_ = name;
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit);
    armed_ = true;
    cv_.notify_one();
  }
  void stop() {
    const std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
  }

 private:
  void watch() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!quit_) {
      if (!armed_) {
        cv_.wait(lock);
      } else if (cv_.wait_until(lock, deadline_) == std::cv_status::timeout && armed_ &&
                 std::chrono::steady_clock::now() >= deadline_) {
        std::fprintf(stderr,
                     "test watchdog: TEST CASE \"%s\" is still running past its limit "
                     "(twice its doctest::timeout, or %lld s without one): aborting\n",
                     name_.c_str(), static_cast<long long>(default_limit.count()));
        std::fflush(stderr);
        lock.unlock();  // doctest's SIGABRT handler reports the case, which calls stop()
        std::abort();
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::string name_;
  std::chrono::steady_clock::time_point deadline_{};
  bool armed_ = false;
  bool quit_ = false;
  std::thread thread_;  // last: started once the fields above exist
};

// The listener that arms the watchdog for each case; it reports nothing itself.
struct watchdog_listener : doctest::IReporter {
  explicit watchdog_listener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& tc) override {
    dog.start(tc.m_name, tc.m_timeout);
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override { dog.stop(); }
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

  watchdog dog;
};

}  // namespace

REGISTER_LISTENER("watchdog", 1, watchdog_listener);

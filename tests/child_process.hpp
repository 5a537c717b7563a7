// Runs a test body in a forked child, for behaviour that ends a process (abort) or might hang:
// the parent gets the exit status and everything the child wrote to stderr.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

namespace magpie::test {

struct child_result {
  int exit_code = -1;  ///< the child's exit status, -1 if a signal ended it
  int signal = 0;      ///< the signal that ended it (SIGALRM: it ran past its time), else 0
  std::string err;     ///< its stderr
};

/// Exit code of a body that could not set up what it tests (not permitted here).
inline constexpr int child_skipped = 77;

/// Forks; the child runs `body` (its return value is the exit code; an exception exits 99 with
/// the message on stderr) and is killed by SIGALRM after `seconds`. Call it while the calling
/// process has no other threads (every runtime of earlier tests destroyed).
template <class Body>
child_result run_in_child(Body&& body, unsigned seconds = 60) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    // The test framework's crash handlers would report the child's expected abort as a crash.
    for (const int sig : {SIGABRT, SIGSEGV, SIGILL, SIGFPE, SIGTERM, SIGINT})
      std::signal(sig, SIG_DFL);
    alarm(seconds);
    int code = 0;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: uncaught %s\n", e.what());
      code = 99;
    } catch (...) {
      code = 98;
    }
    std::fflush(stderr);
    _exit(code);
  }
  close(fds[1]);
  child_result r;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    r.err.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

/// RLIMIT_NPROC does not bind root: a child that tests it first becomes `nobody`. False if it
/// cannot (then the test is skipped).
inline bool become_unprivileged() {
  if (geteuid() != 0) return true;
  return setgid(65534) == 0 && setuid(65534) == 0;
}

/// Lets the calling user have at most `n` processes and threads (soft limit; raise it back with
/// the returned old value).
inline rlimit limit_threads(rlim_t n) {
  rlimit old{};
  getrlimit(RLIMIT_NPROC, &old);
  rlimit lim = old;
  lim.rlim_cur = n;
  setrlimit(RLIMIT_NPROC, &lim);
  return old;
}

}  // namespace magpie::test

// Runs a small Python 3 script on a file a test wrote (JSON parsing without a C++ JSON library).
// Suites skip such checks with a MESSAGE where python3 is missing.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace magpie::test {

inline bool have_python() {
  return std::system("python3 -c pass > /dev/null 2>&1") == 0;
}

/// A file in the temporary directory, unique to this process, removed with the object.
class temp_file {
 public:
  explicit temp_file(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("magpie_" + std::to_string(::getpid()) + "_" + name)) {}
  ~temp_file() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  std::string path() const { return path_.string(); }
  void write(const std::string& text) const { std::ofstream(path_) << text; }

 private:
  std::filesystem::path path_;
};

/// Exit status of `python3 <script> <file>`: 0 when every assertion in the script held (a
/// failing `assert` prints its message on stderr and exits 1).
inline int run_python(const std::string& script, const std::string& file) {
  temp_file py("check_" + std::to_string(std::hash<std::string>{}(script)) + ".py");
  py.write(script);
  const std::string cmd = "python3 " + py.path() + " " + file;
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace magpie::test

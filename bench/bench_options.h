#pragma once

// The benchmark programs' command lines: `--name value` pairs bound to the
// fields of a settings struct, --brokers defaulting to WHIPPET_BROKERS, and
// --help. Malformed input exits with status 2 and the usage text.

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

namespace whippet::bench {

class BenchOptions {
 public:
  // `usage` is printed for --help and after every error.
  BenchOptions(std::string usage, std::string& brokers) : usage_(std::move(usage)) {
    if (const char* from_environment = std::getenv("WHIPPET_BROKERS")) brokers = from_environment;
    add("--brokers", brokers);
  }

  BenchOptions& add(const std::string& name, std::string& field) {
    setters_[name] = [&field](const std::string& value) { field = value; };
    return *this;
  }
  BenchOptions& add(const std::string& name, int& field) {
    setters_[name] = [&field](const std::string& value) { field = std::stoi(value); };
    return *this;
  }
  BenchOptions& add(const std::string& name, double& field) {
    setters_[name] = [&field](const std::string& value) { field = std::stod(value); };
    return *this;
  }

  void parse(int argc, char** argv) const {
    for (int i = 1; i < argc; i += 2) {
      const std::string name = argv[i];
      if (name == "--help" || name == "-h") {
        std::printf("%s\n", usage_.c_str());
        std::exit(0);
      }
      const auto setter = setters_.find(name);
      if (setter == setters_.end()) fail("unknown option " + name);
      if (i + 1 >= argc) fail(name + " needs a value");
      try {
        setter->second(argv[i + 1]);
      } catch (const std::exception&) {
        fail(name + " " + argv[i + 1] + ": not a number");
      }
    }
  }

  [[noreturn]] void fail(const std::string& problem) const {
    std::fprintf(stderr, "%s\n%s\n", problem.c_str(), usage_.c_str());
    std::exit(2);
  }

 private:
  std::string usage_;
  std::map<std::string, std::function<void(const std::string&)>> setters_;
};

}  // namespace whippet::bench

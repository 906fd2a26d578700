#pragma once

// What several benchmark programs compute from their rounds: the process's
// CPU time, each thread's, and the median of a set of figures.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace whippet::bench {

// CPU time of the whole process (all threads, librdkafka's too), in seconds:
// on a machine shared with other work, CPU per record varies far less from
// run to run than records per second.
inline double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& time) { return time.tv_sec + time.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Nanoseconds on a CPU so far of every live thread, by thread id, from
// /proc/self/task/*/schedstat (exact, where getrusage per thread counts
// ticks), with each thread's name.
struct ThreadCpu {
  std::string name;
  double nanoseconds = 0;
};

inline std::map<int, ThreadCpu> thread_cpu_so_far() {
  std::map<int, ThreadCpu> threads;
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", error)) {
    ThreadCpu thread;
    std::ifstream(task.path() / "comm") >> thread.name;
    std::ifstream(task.path() / "schedstat") >> thread.nanoseconds;
    const int id = std::stoi(task.path().filename().string());
    if (id == getpid()) thread.name = "main";
    threads.emplace(id, thread);
  }
  return threads;
}

// CPU per record of each thread that ran between the two snapshots
// (threads started since count from zero), largest first, as
// "name 0.41, name 0.12" in microseconds; threads under 0.01 us a record
// are left out.
inline std::string thread_cost_per_record(const std::map<int, ThreadCpu>& before,
                                          const std::map<int, ThreadCpu>& after, double records) {
  std::vector<std::pair<double, std::string>> costs;
  for (const auto& [id, thread] : after) {
    const auto earlier = before.find(id);
    const double spent = thread.nanoseconds - (earlier == before.end() ? 0 : earlier->second.nanoseconds);
    if (spent / records >= 10) costs.emplace_back(spent / records / 1000, thread.name);
  }
  std::sort(costs.rbegin(), costs.rend());
  std::string text;
  for (const auto& [microseconds, name] : costs) {
    if (!text.empty()) text += ", ";
    text += name + " " + std::to_string(microseconds).substr(0, 4);
  }
  return text;
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

}  // namespace whippet::bench

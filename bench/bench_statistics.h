#pragma once

// What several benchmark programs compute from their rounds: the process's
// CPU time and the median of a set of figures.

#include <sys/resource.h>

#include <algorithm>
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

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

}  // namespace whippet::bench

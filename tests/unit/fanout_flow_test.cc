// A subscriber's rate limits over gRPC: records and bytes per second, with
// one second's allowance available at once (the limiter's buckets start
// full), so N records at R per second take at least (N - R) / R seconds from
// the first to the last.

#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "fanout_fixture.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

using FanoutFlow = FanoutFixture;

double seconds_between(std::optional<FanoutTestClock::time_point> from,
                       std::optional<FanoutTestClock::time_point> to) {
  if (!from || !to) return -1;
  return std::chrono::duration<double>(*to - *from).count();
}

TEST_F(FanoutFlow, RecordsPerSecondSpreadsDeliveries) {
  produce(1000);
  auto limited = request("throttled");
  limited.mutable_flow()->set_records_per_second(500);
  ReceivedLog log;
  auto client = subscribe(limited, log);
  ASSERT_TRUE(log.wait_distinct(1000, 30s)) << log.distinct();
  // 500 at once, the other 500 at 500 a second.
  EXPECT_GE(seconds_between(log.arrival(1), log.arrival(1000)), 0.9);
  EXPECT_GE(seconds_between(log.arrival(600), log.arrival(1000)), 0.7);
  const auto state = subscriber_snapshot("throttled");
  EXPECT_EQ(state["pushed"], 1000) << state.dump();
}

TEST_F(FanoutFlow, ARateLimitedSubscriberDoesNotSlowAnother) {
  produce(1000);
  auto limited = request("throttled");
  limited.mutable_flow()->set_records_per_second(200);
  ReceivedLog slow_log;
  ReceivedLog free_log;
  auto slow = subscribe(limited, slow_log);
  auto free = subscribe(request("unlimited"), free_log);
  ASSERT_TRUE(free_log.wait_distinct(1000, 30s)) << free_log.distinct();
  EXPECT_LT(slow_log.distinct(), 1000u) << "200 a second cannot have delivered 1000 yet";
}

// Payload bytes (key and value) of the records produce(count) makes.
std::size_t produced_bytes(int count) {
  std::size_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    bytes += ("key-" + std::to_string(i % 16)).size() + std::to_string(i).size();
  }
  return bytes;
}

TEST_F(FanoutFlow, BytesPerSecondSpreadsDeliveries) {
  constexpr int kCount = 600;
  constexpr std::size_t kBytesPerSecond = 2000;
  produce(kCount);
  const auto total = produced_bytes(kCount);
  ASSERT_GT(total, 2 * kBytesPerSecond);
  auto limited = request("narrow");
  limited.mutable_flow()->set_bytes_per_second(kBytesPerSecond);
  ReceivedLog log;
  auto client = subscribe(limited, log);
  ASSERT_TRUE(log.wait_distinct(kCount, 30s)) << log.distinct();
  const double at_least = static_cast<double>(total - kBytesPerSecond) / kBytesPerSecond;
  EXPECT_GE(seconds_between(log.arrival(1), log.arrival(kCount)), at_least * 0.85)
      << total << " bytes at " << kBytesPerSecond << " a second";
}

// CPU seconds each thread of this process used so far, by thread id.
std::map<std::string, double> thread_cpu_seconds() {
  std::map<std::string, double> result;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return result;
  while (const auto* entry = readdir(dir)) {
    const std::string id = entry->d_name;
    if (id == "." || id == "..") continue;
    std::ifstream file("/proc/self/task/" + id + "/stat");
    std::string line;
    if (!std::getline(file, line)) continue;
    // Fields after the command name (which may hold spaces) in parentheses.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    double utime = 0;
    double stime = 0;
    for (int index = 3; fields >> field; ++index) {
      if (index == 14) utime = std::stod(field);
      if (index == 15) {
        stime = std::stod(field);
        break;
      }
    }
    result[id] = (utime + stime) / ticks;
  }
  closedir(dir);
  return result;
}

// The CPU seconds the busiest thread of this process used in `window`, once
// `log` has `started` records (the first second's allowance) and while it
// has fewer than `count` (the limit still holds back the rest).
double busiest_thread_while_limited(ReceivedLog& log, std::size_t started, std::size_t count,
                                    std::chrono::milliseconds window) {
  EXPECT_TRUE(log.wait_distinct(started, 30s)) << log.distinct();
  const auto before = thread_cpu_seconds();
  std::this_thread::sleep_for(window);
  const auto after = thread_cpu_seconds();
  EXPECT_LT(log.distinct(), count) << "the limit no longer applied during the measurement";
  double busiest = 0;
  for (const auto& [id, seconds] : after) {
    const auto found = before.find(id);
    if (found != before.end()) busiest = std::max(busiest, seconds - found->second);
  }
  return busiest;
}

TEST_F(FanoutFlow, ARecordLimitedSubscriberWaitsWithoutSpinning) {
  produce(1000);
  auto limited = request("slowly");
  limited.mutable_flow()->set_records_per_second(100);  // about 9 s for these records
  ReceivedLog log;
  auto client = subscribe(limited, log);
  const auto busiest = busiest_thread_while_limited(log, 100, 1000, 1500ms);
  EXPECT_LT(busiest, 0.45) << "a thread used " << busiest
                          << " s of CPU in 1.5 s while a subscriber waited for its allowance";
}

TEST_F(FanoutFlow, AByteLimitedSubscriberWaitsWithoutSpinning) {
  // Regression: the session asked the limiter when a record of 0 bytes may
  // pass, which under a bytes limit is always "now", so while the byte
  // allowance refilled its thread spun (locking the feed's mutex) instead
  // of sleeping.
  produce(1000);
  auto limited = request("narrow");
  limited.mutable_flow()->set_bytes_per_second(1000);  // about 8 s for these records
  ReceivedLog log;
  auto client = subscribe(limited, log);
  const auto busiest = busiest_thread_while_limited(log, 100, 1000, 1500ms);
  EXPECT_LT(busiest, 0.45) << "a thread used " << busiest
                          << " s of CPU in 1.5 s while a subscriber waited for its byte allowance";
}

}  // namespace
}  // namespace whippet

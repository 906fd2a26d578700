#include "observability/snapshot_gauges.h"

#include <array>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <tuple>

namespace whippet::observability {
namespace {

struct GaugeFamily {
  const char* name;
  const char* help;
  // The gauge's value for one partition; none leaves the partition out.
  std::function<std::optional<double>(const PartitionSnapshot&)> value;
};

const std::array<GaugeFamily, 7>& gauge_families() {
  static const std::array<GaugeFamily, 7> families = {{
      {"whippet_consumer_queued_records", "Records dispatched and waiting for a worker.",
       [](const PartitionSnapshot& partition) -> std::optional<double> {
         return static_cast<double>(partition.queued);
       }},
      {"whippet_consumer_in_flight_records", "Records whose handler is running now.",
       [](const PartitionSnapshot& partition) -> std::optional<double> {
         return static_cast<double>(partition.in_flight);
       }},
      {"whippet_consumer_longest_running_handler_seconds",
       "How long the longest-running handler in progress has been running; 0 when idle.",
       [](const PartitionSnapshot& partition) -> std::optional<double> {
         return partition.in_progress_offset ? partition.in_progress_seconds : 0.0;
       }},
      {"whippet_consumer_longest_running_handler_offset",
       "Offset of the record the longest-running handler is working on; absent when idle.",
       [](const PartitionSnapshot& partition) -> std::optional<double> {
         if (!partition.in_progress_offset) return std::nullopt;
         return static_cast<double>(*partition.in_progress_offset);
       }},
      {"whippet_consumer_lag_records", "Records between the partition's end and the consumer.",
       [](const PartitionSnapshot& partition) -> std::optional<double> {
         return static_cast<double>(partition.lag);
       }},
      {"whippet_consumer_lag_seconds", "Age of the oldest record not handled yet.",
       [](const PartitionSnapshot& partition) -> std::optional<double> {
         return partition.lag_seconds;
       }},
      {"whippet_consumer_paused", "1 while the partition is paused by back-pressure, else 0.",
       [](const PartitionSnapshot& partition) -> std::optional<double> {
         return partition.paused_seconds ? 1.0 : 0.0;
       }},
  }};
  return families;
}

using SeriesKey = std::tuple<std::string_view, std::string_view, std::string_view, int32_t>;

void write_family(const GaugeFamily& family, const std::vector<ConsumerSnapshot>& snapshots,
                  ExpositionWriter& writer) {
  writer.begin_family(family.name, MetricType::kGauge, family.help);
  // Two consumers may briefly report the same partition during a rebalance;
  // a page with a duplicate series is invalid, so the first one wins.
  std::set<SeriesKey> written;
  for (const auto& consumer : snapshots) {
    for (const auto& partition : consumer.partitions) {
      const auto value = family.value(partition);
      if (!value) continue;
      if (!written.emplace(partition.topic, consumer.group, consumer.handler, partition.partition)
               .second) {
        continue;
      }
      const auto partition_label = std::to_string(partition.partition);
      const std::array labels = {Label{"topic", partition.topic}, Label{"group", consumer.group},
                                 Label{"handler", consumer.handler},
                                 Label{"partition", partition_label}};
      writer.sample(labels, *value);
    }
  }
}

}  // namespace

void write_snapshot_gauges(const std::vector<ConsumerSnapshot>& snapshots,
                           ExpositionWriter& writer) {
  for (const auto& family : gauge_families()) write_family(family, snapshots, writer);
}

}  // namespace whippet::observability

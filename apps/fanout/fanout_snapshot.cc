#include "fanout_snapshot.h"

#include <map>

namespace whippet::fanout {

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

nlohmann::json to_json(const SessionSnapshot& session) {
  auto partitions = nlohmann::json::array();
  for (const auto& cursor : session.partitions) {
    nlohmann::json item = {{"partition", cursor.partition},
                           {"position", cursor.position},
                           {"acknowledged", cursor.acknowledged},
                           {"source", cursor.private_reader ? "private" : "shared"},
                           {"in_flight", cursor.in_flight}};
    item["committed"] = cursor.committed ? nlohmann::json(*cursor.committed) : nlohmann::json();
    item["lag"] = cursor.lag ? nlohmann::json(*cursor.lag) : nlohmann::json();
    item["buffered_ahead"] =
        cursor.buffered_ahead ? nlohmann::json(*cursor.buffered_ahead) : nlohmann::json();
    partitions.push_back(std::move(item));
  }
  return {{"session", session.id},
          {"topic", session.topic},
          {"subscriber", session.subscriber},
          {"filter", session.filter},
          {"max_in_flight", session.max_in_flight},
          {"in_flight", session.in_flight},
          {"pushed", session.pushed},
          {"redelivered", session.redelivered},
          {"acknowledged", session.acknowledged},
          {"filtered", session.filtered},
          {"evictions", session.evictions},
          {"commit_failures", session.commit_failures},
          {"private_fetched_bytes", session.private_fetched_bytes},
          {"partitions", std::move(partitions)}};
}

struct FamilyBuilder {
  std::map<std::string, metrics::MetricFamily> families;

  void add(const std::string& name, metrics::MetricFamily::Type type, const std::string& help,
           Labels labels, double value) {
    auto& family = families[name];
    if (family.name.empty()) {
      family.name = name;
      family.type = type;
      family.help = help;
    }
    family.samples.push_back({std::move(labels), value});
  }
  void gauge(const std::string& name, const std::string& help, Labels labels, double value) {
    add(name, metrics::MetricFamily::Type::kGauge, help, std::move(labels), value);
  }
  void counter(const std::string& name, const std::string& help, Labels labels, double value) {
    add(name, metrics::MetricFamily::Type::kCounter, help, std::move(labels), value);
  }
};

void add_session_families(const SessionSnapshot& session, FamilyBuilder& out) {
  const Labels labels{{"topic", session.topic}, {"subscriber", session.subscriber}};
  out.counter("whippet_fanout_records_pushed_total", "Records pushed to the subscriber, "
              "pushed again after a missed deadline included", labels, static_cast<double>(session.pushed + session.redelivered));
  out.counter("whippet_fanout_records_acknowledged_total", "Records the subscriber acknowledged",
              labels, static_cast<double>(session.acknowledged));
  out.counter("whippet_fanout_records_redelivered_total",
              "Records pushed again after their acknowledgement deadline", labels,
              static_cast<double>(session.redelivered));
  out.counter("whippet_fanout_records_filtered_total",
              "Records skipped by the subscriber's filter", labels,
              static_cast<double>(session.filtered));
  out.counter("whippet_fanout_evictions_total",
              "Times the subscriber fell out of the shared buffer", labels,
              static_cast<double>(session.evictions));
  out.counter("whippet_fanout_private_fetched_bytes_total",
              "Bytes the subscriber's private reader received from the brokers", labels,
              static_cast<double>(session.private_fetched_bytes));
  out.gauge("whippet_fanout_in_flight_records", "Records pushed and not yet acknowledged",
            labels, static_cast<double>(session.in_flight));
  double buffered = 0;
  for (const auto& cursor : session.partitions) {
    Labels partition = labels;
    partition.emplace_back("partition", std::to_string(cursor.partition));
    out.gauge("whippet_fanout_position", "Next offset to acknowledge (committed on the next "
              "commit)", partition, static_cast<double>(cursor.acknowledged));
    if (cursor.lag) {
      out.gauge("whippet_fanout_lag_records", "High watermark minus the acknowledged position",
                partition, static_cast<double>(*cursor.lag));
    }
    out.gauge("whippet_fanout_private_reader", "1 while the subscriber reads this partition "
              "on its own (it fell out of the shared buffer)", partition,
              cursor.private_reader ? 1 : 0);
    if (cursor.buffered_ahead) buffered += static_cast<double>(*cursor.buffered_ahead);
  }
  out.gauge("whippet_fanout_buffer_occupancy_records",
            "Records in the shared buffer ahead of the subscriber", labels, buffered);
}

}  // namespace

nlohmann::json snapshot_json(SubscriberRegistry& registry) {
  auto topics = nlohmann::json::array();
  for (const auto& feed : registry.feeds()) {
    auto partitions = nlohmann::json::array();
    for (const auto& partition : feed->snapshot()) {
      nlohmann::json item = {{"partition", partition.partition},
                             {"reading", partition.reading},
                             {"buffer_start", partition.buffer_start},
                             {"buffer_end", partition.buffer_end},
                             {"buffered_records", partition.buffered_records},
                             {"buffered_bytes", partition.buffered_bytes}};
      item["high_watermark"] =
          partition.high_watermark ? nlohmann::json(*partition.high_watermark) : nlohmann::json();
      partitions.push_back(std::move(item));
    }
    topics.push_back({{"topic", feed->topic()},
                      {"records_read", feed->records_read()},
                      {"fetched_bytes", feed->fetched_bytes()},
                      {"partitions", std::move(partitions)}});
  }
  auto subscribers = nlohmann::json::array();
  for (const auto& session : registry.sessions()) subscribers.push_back(to_json(session->snapshot()));
  return {{"proxy_id", registry.options().proxy_id},
          {"topics", std::move(topics)},
          {"subscribers", std::move(subscribers)}};
}

std::vector<metrics::MetricFamily> metric_families(SubscriberRegistry& registry) {
  FamilyBuilder out;
  for (const auto& feed : registry.feeds()) {
    const Labels topic{{"topic", feed->topic()}};
    out.counter("whippet_fanout_fetched_bytes_total",
                "Bytes the shared reader received from the brokers", topic,
                static_cast<double>(feed->fetched_bytes()));
    out.counter("whippet_fanout_records_read_total", "Records read into the shared buffers",
                topic, static_cast<double>(feed->records_read()));
    for (const auto& partition : feed->snapshot()) {
      Labels labels = topic;
      labels.emplace_back("partition", std::to_string(partition.partition));
      out.gauge("whippet_fanout_buffer_records", "Records in the shared buffer", labels,
                static_cast<double>(partition.buffered_records));
      out.gauge("whippet_fanout_buffer_bytes", "Payload bytes in the shared buffer", labels,
                static_cast<double>(partition.buffered_bytes));
    }
  }
  for (const auto& session : registry.sessions()) add_session_families(session->snapshot(), out);
  std::vector<metrics::MetricFamily> families;
  for (auto& [name, family] : out.families) families.push_back(std::move(family));
  return families;
}

}  // namespace whippet::fanout

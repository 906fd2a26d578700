#include "whippet/record_reader.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "kafka/client_config.h"
#include "kafka/error_translation.h"
#include "kafka/record_conversion.h"
#include "whippet/error.h"

namespace whippet {

namespace {

kafka::TopicPartitionListHandle to_list(const std::vector<TopicPartition>& partitions,
                                        int64_t offset = RD_KAFKA_OFFSET_INVALID) {
  auto list = kafka::make_partition_list(static_cast<int>(partitions.size()));
  for (const auto& partition : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition)
        ->offset = offset;
  }
  return list;
}

kafka::TopicPartitionListHandle to_list(const std::vector<PartitionOffset>& positions) {
  auto list = kafka::make_partition_list(static_cast<int>(positions.size()));
  for (const auto& position : positions) {
    rd_kafka_topic_partition_list_add(list.get(), position.partition.topic.c_str(),
                                      position.partition.partition)
        ->offset = position.offset;
  }
  return list;
}

std::vector<TopicPartition> from_list(const rd_kafka_topic_partition_list_t& list) {
  std::vector<TopicPartition> partitions;
  partitions.reserve(static_cast<std::size_t>(list.cnt));
  for (int i = 0; i < list.cnt; ++i) {
    partitions.push_back({list.elems[i].topic, list.elems[i].partition});
  }
  return partitions;
}

void throw_if_failed(rd_kafka_error_t* raw, const std::string& what) {
  kafka::ErrorHandle error(raw);
  if (error) throw kafka::translate(error.get(), what);
}

}  // namespace

struct RecordReader::Impl {
  RecordReaderOptions options;
  ResolvedCluster cluster;
  kafka::KafkaHandle handle;
  kafka::QueueHandle queue;
  PartitionListener* listener = nullptr;
  std::atomic<std::uint64_t> fetched_bytes{0};

  static void on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t reason,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<Impl*>(opaque)->rebalance(handle, reason, *partitions);
  }

  static int on_statistics(rd_kafka_t* /*handle*/, char* json, size_t length, void* opaque) {
    try {
      const auto statistics = nlohmann::json::parse(json, json + length);
      static_cast<Impl*>(opaque)->fetched_bytes.store(statistics.value("rx_bytes", 0ULL),
                                                      std::memory_order_relaxed);
    } catch (const std::exception& error) {
      spdlog::debug("librdkafka statistics not understood: {}", error.what());
    }
    return 0;  // librdkafka frees the json
  }

  void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t reason,
                 rd_kafka_topic_partition_list_t& partitions) {
    const auto changed = from_list(partitions);
    if (reason == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      // Paused at the end until the application knows where to read: a
      // guess would fetch records nobody wants. The end as a number, not
      // RD_KAFKA_OFFSET_END: librdkafka 2.0.2 resolves a logical offset with
      // a ListOffsets request whose late (outdated) reply re-arms a timer
      // that resets the position to the end again half a second after a
      // seek, skipping the records between.
      for (int i = 0; i < partitions.cnt; ++i) {
        partitions.elems[i].offset = numeric_end(rk, partitions.elems[i]);
      }
      log_failure(rd_kafka_incremental_assign(rk, &partitions), "assign");
      rd_kafka_pause_partitions(rk, &partitions);
      if (listener) listener->on_assigned(changed);
      return;
    }
    try {
      if (listener) listener->on_revoked(changed);
    } catch (const std::exception& error) {
      spdlog::error("reader of group {}: revoke listener failed: {}", options.group_id,
                    error.what());
    }
    log_failure(rd_kafka_incremental_unassign(rk, &partitions), "unassign");
  }

  int64_t numeric_end(rd_kafka_t* rk, const rd_kafka_topic_partition_t& partition) const {
    int64_t low = 0;
    int64_t high = 0;
    const auto err = rd_kafka_query_watermark_offsets(
        rk, partition.topic, partition.partition, &low, &high,
        static_cast<int>(options.cluster.request_timeout.count()));
    if (err) {
      // The beginning, not the end: should its lookup reset the position
      // after a seek, records are read twice (and dropped by the
      // application as older than what it has), never skipped.
      spdlog::warn("reader of group {}: end of {}-{} unknown ({}), assigning the beginning",
                   options.group_id, partition.topic, partition.partition, rd_kafka_err2str(err));
      return RD_KAFKA_OFFSET_BEGINNING;
    }
    return high;
  }

  void log_failure(rd_kafka_error_t* raw, const char* what) const {
    kafka::ErrorHandle error(raw);
    if (error) {
      spdlog::error("reader of group {}: {} failed: {}", options.group_id, what,
                    rd_kafka_error_string(error.get()));
    }
  }
};

RecordReader::RecordReader(RecordReaderOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  auto& settings = impl_->options;
  if (settings.group_id.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "a RecordReader needs a group_id");
  }
  impl_->cluster = resolve_cluster(settings.cluster);
  auto properties =
      kafka::consumer_base_properties(impl_->cluster, settings.cluster, settings.group_id);
  properties["auto.offset.reset"] = "earliest";
  properties["queued.max.messages.kbytes"] = std::to_string(settings.max_prefetch_kilobytes);
  properties["session.timeout.ms"] = std::to_string(settings.session_timeout.count());
  properties["partition.assignment.strategy"] = "cooperative-sticky";
  properties["statistics.interval.ms"] = std::to_string(settings.statistics_interval.count());
  auto conf = kafka::build_conf(properties, settings.cluster.librdkafka_properties);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
  rd_kafka_conf_set_stats_cb(conf.get(), &Impl::on_statistics);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  impl_->handle = kafka::create_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(impl_->handle.get());
  impl_->queue.reset(rd_kafka_queue_get_consumer(impl_->handle.get()));
}

RecordReader::~RecordReader() {
  // Closing runs the revoke callback for subscribed partitions.
  const auto err = rd_kafka_consumer_close(impl_->handle.get());
  if (err) {
    spdlog::warn("reader of group {}: close: {}", impl_->options.group_id, rd_kafka_err2str(err));
  }
}

void RecordReader::subscribe(const std::vector<std::string>& topics,
                             PartitionListener& listener) {
  impl_->listener = &listener;
  auto list = kafka::make_partition_list(static_cast<int>(topics.size()));
  for (const auto& topic : topics) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const auto err = rd_kafka_subscribe(impl_->handle.get(), list.get());
  if (err) {
    throw kafka::translate(err, "subscribe to " + std::to_string(topics.size()) + " topic(s)",
                           ErrorContext::of_group(impl_->options.group_id));
  }
}

void RecordReader::assign(const std::vector<PartitionOffset>& partitions) {
  if (partitions.empty()) return;
  throw_if_failed(rd_kafka_incremental_assign(impl_->handle.get(), to_list(partitions).get()),
                  "assign partitions");
}

void RecordReader::unassign(const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) return;
  throw_if_failed(rd_kafka_incremental_unassign(impl_->handle.get(), to_list(partitions).get()),
                  "unassign partitions");
}

void RecordReader::seek(const PartitionOffset& position) {
  auto list = to_list(std::vector<PartitionOffset>{position});
  // Asynchronous (timeout 0): the fetcher repositions before it fetches again.
  throw_if_failed(rd_kafka_seek_partitions(impl_->handle.get(), list.get(), 0),
                  "seek " + to_string(position.partition));
}

void RecordReader::pause(const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) return;
  rd_kafka_pause_partitions(impl_->handle.get(), to_list(partitions).get());
}

void RecordReader::resume(const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) return;
  rd_kafka_resume_partitions(impl_->handle.get(), to_list(partitions).get());
}

std::vector<Record> RecordReader::poll(std::size_t max_records,
                                       std::chrono::milliseconds timeout) {
  std::vector<Record> records;
  auto wait = static_cast<int>(timeout.count());
  while (records.size() < max_records) {
    kafka::MessageHandle message(rd_kafka_consumer_poll(impl_->handle.get(), wait));
    if (!message) break;
    wait = 0;
    if (message->err) {
      spdlog::warn("reader of group {}: {}", impl_->options.group_id,
                   rd_kafka_message_errstr(message.get()));
      continue;
    }
    records.push_back(kafka::to_record(*message));
  }
  return records;
}

void RecordReader::wake() { rd_kafka_queue_yield(impl_->queue.get()); }

std::map<TopicPartition, std::optional<int64_t>> RecordReader::committed(
    const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) {
  std::map<TopicPartition, std::optional<int64_t>> offsets;
  if (partitions.empty()) return offsets;
  auto list = to_list(partitions);
  const auto err =
      rd_kafka_committed(impl_->handle.get(), list.get(), static_cast<int>(timeout.count()));
  if (err) {
    throw kafka::translate(err, "read the committed offsets",
                           ErrorContext::of_group(impl_->options.group_id));
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& element = list->elems[i];
    if (element.err) {
      throw kafka::translate(element.err, "read the committed offset",
                             ErrorContext::of_topic(element.topic, element.partition));
    }
    std::optional<int64_t> offset;
    if (element.offset >= 0) offset = element.offset;
    offsets[{element.topic, element.partition}] = offset;
  }
  return offsets;
}

void RecordReader::commit(const std::vector<PartitionOffset>& offsets) {
  if (offsets.empty()) return;
  auto list = to_list(offsets);
  const auto err = rd_kafka_commit(impl_->handle.get(), list.get(), 0);
  if (err) {
    throw kafka::translate(err, "commit offsets", ErrorContext::of_group(impl_->options.group_id));
  }
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) {
      throw kafka::translate(list->elems[i].err, "commit the offset of group " +
                                                     impl_->options.group_id,
                             ErrorContext::of_topic(list->elems[i].topic, list->elems[i].partition));
    }
  }
}

std::pair<int64_t, int64_t> RecordReader::watermarks(const TopicPartition& partition,
                                                     std::chrono::milliseconds timeout) {
  int64_t low = 0;
  int64_t high = 0;
  const auto err =
      rd_kafka_query_watermark_offsets(impl_->handle.get(), partition.topic.c_str(),
                                       partition.partition, &low, &high,
                                       static_cast<int>(timeout.count()));
  if (err) {
    throw kafka::translate(err, "read the watermarks",
                           ErrorContext::of_topic(partition.topic, partition.partition));
  }
  return {low, high};
}

std::optional<int64_t> RecordReader::high_watermark(const TopicPartition& partition) {
  int64_t low = RD_KAFKA_OFFSET_INVALID;
  int64_t high = RD_KAFKA_OFFSET_INVALID;
  const auto err = rd_kafka_get_watermark_offsets(impl_->handle.get(), partition.topic.c_str(),
                                                  partition.partition, &low, &high);
  if (err || high < 0) return std::nullopt;
  return high;
}

std::uint64_t RecordReader::fetched_bytes() const {
  return impl_->fetched_bytes.load(std::memory_order_relaxed);
}

}  // namespace whippet

#pragma once

// A low-level reader for applications that place and move their own reading
// positions (the fan-out proxy, replication): records come back in batches
// from poll(), nothing is dispatched to handlers and nothing is committed
// unless the application commits it. Use whippet::Consumer for handlers.
//
// Two ways to own partitions:
//   subscribe(): join `group_id` for topics; the group protocol splits the
//     partitions between the members and the listener hears of changes.
//   assign(): read the given partitions from given offsets, no membership.
//
// Threading: poll(), subscribe(), assign(), unassign(), seek(), pause() and
// resume() belong to one thread (the listener runs inside poll() on it).
// wake(), committed(), commit(), fetched_bytes() and high_watermark() may be
// called from any thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "whippet/cluster.h"
#include "whippet/record.h"

namespace whippet {

struct RecordReaderOptions {
  ClusterOptions cluster;
  // The group joined by subscribe(), and whose offsets committed() and
  // commit() read and write. Required.
  std::string group_id;
  // How long the group waits for a silent member before moving its
  // partitions to the others.
  std::chrono::milliseconds session_timeout{10000};
  // Records fetched ahead of poll() stay under this many kilobytes per
  // reader (librdkafka's queued.max.messages.kbytes).
  std::size_t max_prefetch_kilobytes = 16384;
  // How often fetched_bytes() is refreshed from librdkafka's statistics.
  std::chrono::milliseconds statistics_interval{1000};
};

struct PartitionOffset {
  TopicPartition partition;
  int64_t offset = 0;
};

// Told about partitions the group gives to or takes from a subscribed
// reader, inside poll(). Assigned partitions start paused: the application
// seek()s and resume()s each when it knows where to read. on_revoked runs
// before the partitions are given up, so work for them can finish first.
class PartitionListener {
 public:
  virtual ~PartitionListener() = default;
  virtual void on_assigned(const std::vector<TopicPartition>& partitions) = 0;
  virtual void on_revoked(const std::vector<TopicPartition>& partitions) = 0;
};

class RecordReader {
 public:
  // Throws whippet::Error (kInvalidArgument without a group, kInvalidConfig
  // for properties librdkafka rejects).
  explicit RecordReader(RecordReaderOptions options);
  // Leaves the group (revoking through the listener) and closes.
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // The listener must outlive the reader.
  void subscribe(const std::vector<std::string>& topics, PartitionListener& listener);

  // Adds partitions to read from the given offsets (no group membership).
  void assign(const std::vector<PartitionOffset>& partitions);
  void unassign(const std::vector<TopicPartition>& partitions);
  // The next poll() returns records of `partition` from `offset` on; records
  // fetched before the seek are discarded.
  void seek(const PartitionOffset& position);
  void pause(const std::vector<TopicPartition>& partitions);
  void resume(const std::vector<TopicPartition>& partitions);

  // Up to max_records records, waiting up to `timeout` for the first one
  // (or until wake()). Fetch errors are logged and retried by librdkafka.
  std::vector<Record> poll(std::size_t max_records, std::chrono::milliseconds timeout);
  // Makes a poll() waiting in another thread return early.
  void wake();

  // The group's committed offsets (nullopt where it has none). Throws
  // whippet::Error when the group coordinator does not answer in time.
  std::map<TopicPartition, std::optional<int64_t>> committed(
      const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout);
  // Commits these offsets (the next offset to read) for the group, waiting
  // for the coordinator. A reader that did not subscribe commits as a
  // non-member, which Kafka accepts for groups with no active members.
  // Throws whippet::Error naming the group on failure.
  void commit(const std::vector<PartitionOffset>& offsets);

  // The partition's first and next offsets, asked from the broker.
  std::pair<int64_t, int64_t> watermarks(const TopicPartition& partition,
                                         std::chrono::milliseconds timeout);
  // The high watermark last seen in a fetch response, without asking the
  // broker; nullopt before the partition has been fetched.
  std::optional<int64_t> high_watermark(const TopicPartition& partition);

  // Bytes this reader has received from the brokers (librdkafka's rx_bytes,
  // refreshed every statistics_interval).
  std::uint64_t fetched_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace whippet

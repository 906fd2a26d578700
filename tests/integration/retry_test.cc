// Retry policies on a real broker: retry topics, blocking retries and the
// operator's verbs, dead-lettering, and shutdown in the middle of a back-off.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/timestamp.pb.h>
#include <gtest/gtest.h>

#include "support/inbox.h"
#include "retry/retry_headers.h"
#include "support/test_cluster.h"
#include "whippet/admin.h"
#include "whippet/consumer.h"
#include "whippet/error.h"
#include "whippet/handler.h"
#include "whippet/producer.h"
#include "whippet/retry.h"
#include "whippet/serde.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::HandledRecords;

// The submitTimestamp header has millisecond resolution and the back-off is
// measured on the wall clock, the attempts here on the steady clock.
constexpr auto kClockSlack = 10ms;

ConsumerOptions consumer_options(const std::string& topic, const std::string& group) {
  auto options = testing::test_consumer_options(topic, group);
  options.drain_timeout = 5000ms;
  return options;
}

double seconds(Clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

long long millis(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// Record i of a one-partition topic: offset i, key "key-<i>", value "<i>".
ProducerRecord numbered(const std::string& topic, int i) {
  ProducerRecord record;
  record.topic = topic;
  record.partition = 0;
  record.key = "key-" + std::to_string(i);
  record.value = std::to_string(i);
  return record;
}

void produce(const std::vector<ProducerRecord>& records) {
  ProducerOptions options;
  options.cluster = testing::test_cluster_options();
  Producer producer(options);
  std::vector<std::future<RecordMetadata>> deliveries;
  deliveries.reserve(records.size());
  for (const auto& record : records) deliveries.push_back(producer.send(record));
  for (auto& delivery : deliveries) delivery.get();  // throws on a failed delivery
}

void produce_range(const std::string& topic, int from, int to) {
  std::vector<ProducerRecord> records;
  for (int i = from; i < to; ++i) records.push_back(numbered(topic, i));
  produce(records);
}

std::string header(const Record& record, std::string_view key) {
  auto value = last_header(record.headers, key);
  return value ? *value : "<missing>";
}

std::size_t header_count(const Record& record, std::string_view key) {
  return static_cast<std::size_t>(std::count_if(record.headers.begin(), record.headers.end(),
                                                [&](const Header& h) { return h.key == key; }));
}


Headers non_retry_headers(const Record& record) {
  Headers kept;
  for (const auto& h : record.headers) {
    if (!retry::is_retry_header(h.key)) kept.push_back(h);
  }
  return kept;
}

std::optional<int64_t> committed_offset(const std::string& group, const std::string& topic) {
  AdminOptions options;
  options.cluster = testing::test_cluster_options();
  AdminClient admin(options);
  for (const auto& lag : admin.group_lag(group, {topic})) {
    if (lag.topic_partition.partition == 0) return lag.committed_offset;
  }
  return std::nullopt;
}

std::string describe(const std::optional<int64_t>& offset) {
  return offset ? std::to_string(*offset) : "none";
}

bool wait_for_committed(const std::string& group, const std::string& topic, int64_t expected,
                        std::chrono::milliseconds timeout) {
  return wait_until([&] { return committed_offset(group, topic) == expected; }, timeout);
}

int64_t end_offset(const std::string& topic) {
  return testing::end_offsets(testing::test_cluster_options(), topic).at(0);
}

// Reads a topic from the start with a group of its own and no retry policy.
class TopicReader {
 public:
  explicit TopicReader(const std::string& topic)
      : consumer_(consumer_options(topic, testing::unique_name("reader")),
                  [this](const Record& record) { inbox_.add(record); }) {}
  std::vector<Record> wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    return inbox_.wait_for(count, timeout);
  }

 private:
  testing::Inbox inbox_;  // outlives the consumer that fills it
  Consumer consumer_;
};

// Every call of a handler on chosen records: which topic, when.
class Attempts {
 public:
  struct Attempt {
    std::string topic;
    int64_t offset;
    Clock::time_point at;
  };
  void add(const Record& record) {
    std::lock_guard lock(mutex_);
    attempts_.push_back({record.topic, record.offset, Clock::now()});
  }
  std::vector<Attempt> all() const {
    std::lock_guard lock(mutex_);
    return attempts_;
  }
  std::size_t of_value(const std::string& value) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(by_value_.count(value) ? by_value_.at(value) : 0);
  }
  void add_value(const std::string& value) {
    std::lock_guard lock(mutex_);
    ++by_value_[value];
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Attempt> attempts_;
  std::map<std::string, int> by_value_;
};

// Values the handler fails on, changed by the test while the consumer runs.
class FailingValues {
 public:
  explicit FailingValues(std::set<std::string> values) : values_(std::move(values)) {}
  bool contains(const std::string& value) const {
    std::lock_guard lock(mutex_);
    return values_.contains(value);
  }
  void add(const std::string& value) {
    std::lock_guard lock(mutex_);
    values_.insert(value);
  }
  void remove(const std::string& value) {
    std::lock_guard lock(mutex_);
    values_.erase(value);
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> values_;
};

std::optional<BlockedRecord> blocked_on(const Consumer& consumer, const TopicPartition& partition) {
  for (const auto& blocked : consumer.blocking_state().blocked) {
    if (blocked.partition == partition) return blocked;
  }
  return std::nullopt;
}

std::optional<BlockedRecord> wait_for_blocked(const Consumer& consumer,
                                              const TopicPartition& partition, int64_t offset,
                                              std::chrono::milliseconds timeout) {
  std::optional<BlockedRecord> found;
  wait_until(
      [&] {
        found = blocked_on(consumer, partition);
        return found && found->offset == offset;
      },
      timeout);
  if (found && found->offset != offset) return std::nullopt;
  return found;
}

std::vector<int64_t> handled_offsets(const HandledRecords& handled) {
  auto by_partition = handled.by_partition();
  return by_partition[0];
}

std::vector<int64_t> offsets(std::initializer_list<std::pair<int, int>> ranges) {
  std::vector<int64_t> result;
  for (auto [from, to] : ranges) {
    for (int i = from; i < to; ++i) result.push_back(i);
  }
  return result;
}

// A record that always fails visits retry-1 and retry-2, no earlier than
// their back-offs, then lands in the dead-letter topic with its origin and
// history, while the rest of its partition goes on without waiting for it.
TEST(RetryIntegrationTest, PoisonRecordGoesThroughTheRetryTopicsToTheDeadLetterTopic) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kRecords = 2000;
  constexpr int kPoison = 777;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("poison");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, 1);
  std::vector<ProducerRecord> records;
  for (int i = 0; i < kRecords; ++i) records.push_back(numbered(topic, i));
  const Headers poison_headers{{"trace", "abc"}, {"dup", "1"}, {"dup", "2"}, {"empty", ""}};
  records[kPoison].headers = poison_headers;
  produce(records);

  auto options = consumer_options(topic, group);
  options.retry.per_topic[topic] = RetryTopics{{1000ms, 2000ms}};
  Attempts poison;
  HandledRecords others;
  std::atomic<int> others_from_retry_topics{0};
  std::mutex last_mutex;
  Clock::time_point last_other{};
  const auto started = Clock::now();
  Consumer consumer(options, [&](const Record& record) {
    if (record.value == std::to_string(kPoison)) {
      poison.add(record);
      throw std::runtime_error("poison record " + *record.key);
    }
    if (record.topic != topic) others_from_retry_topics.fetch_add(1);
    {
      std::lock_guard lock(last_mutex);
      last_other = Clock::now();
    }
    others.add(record);
  });
  const auto dead_letter_topic = RetryTopicNamer::dead_letter_topic(topic, group);
  TopicReader dead_letters(dead_letter_topic);

  ASSERT_TRUE(others.wait_for_count(kRecords - 1, 20s))
      << others.count() << " of " << kRecords - 1 << " healthy records handled";
  ASSERT_TRUE(wait_until([&] { return end_offset(dead_letter_topic) == 1; }, 20s))
      << "the poison record never reached the dead-letter topic; " << poison.all().size()
      << " attempt(s) seen";
  const auto dead_stored = Clock::now();  // within a describe_topic round trip
  const auto dead = dead_letters.wait_for(1, 20s);
  const auto dead_seen = Clock::now();
  ASSERT_EQ(dead.size(), 1u) << "the poison record never reached the dead-letter topic; "
                             << poison.all().size() << " attempt(s) seen";
  std::this_thread::sleep_for(500ms);  // a fourth attempt would show now

  const auto attempts = poison.all();
  ASSERT_EQ(attempts.size(), 3u) << "the original, retry-1 and retry-2: exactly three attempts";
  EXPECT_EQ(attempts[0].topic, topic);
  EXPECT_EQ(attempts[0].offset, kPoison);
  EXPECT_EQ(attempts[1].topic, RetryTopicNamer::retry_topic(topic, group, 1));
  EXPECT_EQ(attempts[2].topic, RetryTopicNamer::retry_topic(topic, group, 2));
  const auto first_gap = attempts[1].at - attempts[0].at;
  const auto second_gap = attempts[2].at - attempts[1].at;
  EXPECT_GE(first_gap, 1000ms - kClockSlack) << "retry-1 ran before its 1 s back-off";
  EXPECT_GE(second_gap, 2000ms - kClockSlack) << "retry-2 ran before its 2 s back-off";
  // Generous upper bounds: the waits end when due, not at some later poll.
  EXPECT_LT(first_gap, 3000ms);
  EXPECT_LT(second_gap, 4000ms);

  Clock::time_point last;
  {
    std::lock_guard lock(last_mutex);
    last = last_other;
  }
  std::printf(
      "[ figures  ] first attempt %.2f s after start; healthy records done %.2f s after it; "
      "retry-1 after %.3f s, retry-2 after %.3f s more; dead letter stored %.2f s and read by "
      "another group %.2f s after the first attempt\n",
      seconds(attempts[0].at - started), seconds(last - attempts[0].at), seconds(first_gap),
      seconds(second_gap), seconds(dead_stored - attempts[0].at),
      seconds(dead_seen - attempts[0].at));
  EXPECT_LT(last - attempts[0].at, 2s)
      << "the records after the poison waited for it (head-of-line blocking)";
  EXPECT_LT(last, attempts[2].at - 1s) << "the partition finished only around the last retry";
  EXPECT_EQ(others.count(), static_cast<std::size_t>(kRecords - 1)) << "healthy records ran twice";
  EXPECT_EQ(others_from_retry_topics.load(), 0) << "healthy records were sent to retry topics";

  const auto& copy = dead.front();
  EXPECT_EQ(copy.key, "key-" + std::to_string(kPoison));
  EXPECT_EQ(copy.value, std::to_string(kPoison));
  EXPECT_EQ(non_retry_headers(copy), poison_headers) << "the record's own headers changed";
  EXPECT_EQ(header(copy, retry_headers::kOriginalTopic), topic);
  EXPECT_EQ(header(copy, retry_headers::kOriginalPartition), "0");
  EXPECT_EQ(header(copy, retry_headers::kOriginalOffset), std::to_string(kPoison));
  EXPECT_EQ(header(copy, retry_headers::kRetryAttempt), "3");
  EXPECT_NE(header(copy, retry_headers::kErrorType).find("runtime_error"), std::string::npos)
      << header(copy, retry_headers::kErrorType);
  EXPECT_EQ(header(copy, retry_headers::kErrorMessage), "poison record key-777");
  for (auto key : {retry_headers::kOriginalTopic, retry_headers::kRetryAttempt,
                   retry_headers::kOriginalOffset, retry_headers::kErrorType}) {
    EXPECT_EQ(header_count(copy, key), 1u) << key << " repeated on the dead-letter copy";
  }
  EXPECT_EQ(header_count(copy, retry_headers::kBackOffTimeMs), 0u);

  EXPECT_TRUE(wait_for_committed(group, topic, kRecords, 10s))
      << "committed on " << topic << ": " << describe(committed_offset(group, topic));
  for (int step : {1, 2}) {
    const auto retry_topic = RetryTopicNamer::retry_topic(topic, group, step);
    EXPECT_EQ(end_offset(retry_topic), 1) << retry_topic;
    EXPECT_TRUE(wait_for_committed(group, retry_topic, 1, 10s))
        << "committed on " << retry_topic << ": " << describe(committed_offset(group, retry_topic));
  }
  consumer.close(10s);
}

// A blocking policy holds the partition on the failing record until an
// operator skips it; skip_failures and block_on_failures switch blocking
// off and on again.
TEST(RetryIntegrationTest, BlockingRetryHoldsThePartitionAndObeysTheOperatorVerbs) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("blocking");
  const auto group = testing::unique_name("group");
  const TopicPartition partition{topic, 0};
  testing::create_topic(cluster, topic, 1);
  auto options = consumer_options(topic, group);
  options.retry.per_topic[topic] = BlockingRetry{InfiniteBackOff{200ms}};
  FailingValues failing({"3"});
  Attempts attempts;
  HandledRecords handled;
  Consumer consumer(options, [&](const Record& record) {
    attempts.add_value(*record.value);
    if (failing.contains(*record.value)) throw std::runtime_error("fails on purpose");
    handled.add(record);
  });
  TopicReader dead_letters(RetryTopicNamer::dead_letter_topic(topic, group));
  produce_range(topic, 0, 10);

  // Blocked on 3: nothing after it runs.
  const auto blocked = wait_for_blocked(consumer, partition, 3, 20s);
  ASSERT_TRUE(blocked) << "offset 3 never showed as blocked; handled "
                       << handled.count();
  EXPECT_EQ(blocked->error, "fails on purpose");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(handled_offsets(handled), offsets({{0, 3}}))
      << "records behind the blocked one were handled";
  const auto still = blocked_on(consumer, partition);
  ASSERT_TRUE(still) << "no longer blocked after 1.5 s";
  EXPECT_EQ(still->offset, 3);
  EXPECT_GE(still->attempt, blocked->attempt + 3)
      << "attempts did not grow with a 200 ms back-off";
  EXPECT_GE(still->blocked_seconds, 1.4);
  const auto snapshot = consumer.snapshot();
  const auto found = std::find_if(snapshot.partitions.begin(), snapshot.partitions.end(),
                                  [&](const PartitionSnapshot& p) {
                                    return p.topic == topic && p.partition == 0;
                                  });
  ASSERT_NE(found, snapshot.partitions.end()) << "the partition is missing from the snapshot";
  EXPECT_EQ(found->blocked_offset, 3);
  EXPECT_GE(found->blocked_attempt, still->attempt);
  std::printf("[ figures  ] blocked on offset 3: attempt %d when first seen, %d after 1.5 s\n",
              blocked->attempt, still->attempt);

  // Skipped: to the dead-letter topic, then the partition moves on in order.
  consumer.skip_blocked(partition);
  auto dead = dead_letters.wait_for(1, 10s);
  ASSERT_EQ(dead.size(), 1u) << "the skipped record did not reach the dead-letter topic";
  EXPECT_EQ(header(dead[0], retry_headers::kOriginalOffset), "3");
  EXPECT_NE(header(dead[0], retry_headers::kErrorMessage).find("skipped"), std::string::npos)
      << header(dead[0], retry_headers::kErrorMessage);
  EXPECT_EQ(header(dead[0], retry_headers::kRetryAttempt), std::to_string(attempts.of_value("3")))
      << "GH_RetryAttempt is not the number of attempts made";
  ASSERT_TRUE(handled.wait_for_count(9, 10s)) << handled.count() << " handled after the skip";
  EXPECT_EQ(handled_offsets(handled), offsets({{0, 3}, {4, 10}}));
  EXPECT_TRUE(consumer.blocking_state().blocked.empty());

  // Nothing to skip now.
  try {
    consumer.skip_blocked(partition);
    ADD_FAILURE() << "skip_blocked on a partition that is not blocked did not throw";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotFound) << error.what();
  }

  // skip_failures: a new failure goes straight to the dead-letter topic.
  consumer.skip_failures(topic);
  EXPECT_EQ(consumer.blocking_state().skipping_topics, std::vector<std::string>{topic});
  failing.add("12");
  const auto skipping_from = Clock::now();
  produce_range(topic, 10, 15);
  dead = dead_letters.wait_for(2, 10s);
  ASSERT_EQ(dead.size(), 2u) << "offset 12 did not reach the dead-letter topic while skipping";
  EXPECT_EQ(header(dead[1], retry_headers::kOriginalOffset), "12");
  EXPECT_EQ(header(dead[1], retry_headers::kRetryAttempt), "1");
  ASSERT_TRUE(handled.wait_for_count(13, 10s)) << handled.count() << " handled";
  std::printf("[ figures  ] while skipping, 10..14 done %.2f s after producing them\n",
              seconds(Clock::now() - skipping_from));
  EXPECT_EQ(attempts.of_value("12"), 1u) << "a failure was retried while skipping";
  EXPECT_EQ(handled_offsets(handled), offsets({{0, 3}, {4, 12}, {13, 15}}));

  // block_on_failures: blocking again; recovers once the failure stops.
  consumer.block_on_failures(topic);
  EXPECT_TRUE(consumer.blocking_state().skipping_topics.empty());
  failing.add("17");
  produce_range(topic, 15, 20);
  ASSERT_TRUE(wait_for_blocked(consumer, partition, 17, 10s))
      << "offset 17 did not block after block_on_failures";
  std::this_thread::sleep_for(1000ms);
  EXPECT_EQ(handled_offsets(handled), offsets({{0, 3}, {4, 12}, {13, 17}}))
      << "records behind 17 ran while it was blocked";
  failing.remove("17");
  ASSERT_TRUE(handled.wait_for_count(18, 10s)) << handled.count() << " handled after recovery";
  EXPECT_EQ(handled_offsets(handled), offsets({{0, 3}, {4, 12}, {13, 20}}));
  EXPECT_TRUE(consumer.blocking_state().blocked.empty());
  EXPECT_EQ(dead_letters.wait_for(3, 1s).size(), 2u) << "a recovered record was dead-lettered";
  EXPECT_TRUE(wait_for_committed(group, topic, 20, 10s))
      << "committed: " << describe(committed_offset(group, topic));
  consumer.close(10s);
}

// Bytes that do not parse are not retried: straight to the dead-letter
// topic, and the records around them go on at once.
TEST(RetryIntegrationTest, MalformedProtobufGoesStraightToTheDeadLetterTopic) {
  WHIPPET_REQUIRE_BROKER();
  constexpr int kRecords = 11;
  constexpr int kGarbage = 5;
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("protobuf");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, 1);
  const std::string garbage = "\x0A\x05" "ab";  // a field claiming 5 bytes, with 2
  std::vector<ProducerRecord> records;
  for (int i = 0; i < kRecords; ++i) {
    auto record = numbered(topic, i);
    if (i == kGarbage) {
      record.value = garbage;
    } else {
      google::protobuf::Timestamp timestamp;
      timestamp.set_seconds(1700000000 + i);
      record.value = ProtobufSerde<google::protobuf::Timestamp>{}.serialize(timestamp);
    }
    records.push_back(std::move(record));
  }
  produce(records);

  auto options = consumer_options(topic, group);
  options.retry.per_topic[topic] = RetryTopics{{10000ms}};
  HandledRecords handled;
  std::atomic<int> wrong_values{0};
  std::mutex times_mutex;
  std::vector<Clock::time_point> handled_at;
  Consumer consumer(options, deserializing(ProtobufSerde<google::protobuf::Timestamp>{},
                                           [&](const google::protobuf::Timestamp& timestamp,
                                               const Record& record) {
                                             if (timestamp.seconds() != 1700000000 + record.offset) {
                                               wrong_values.fetch_add(1);
                                             }
                                             {
                                               std::lock_guard lock(times_mutex);
                                               handled_at.push_back(Clock::now());
                                             }
                                             handled.add(record);
                                           }));
  TopicReader dead_letters(RetryTopicNamer::dead_letter_topic(topic, group));

  ASSERT_TRUE(handled.wait_for_count(kRecords - 1, 15s)) << handled.count() << " handled";
  EXPECT_EQ(handled_offsets(handled), offsets({{0, kGarbage}, {kGarbage + 1, kRecords}}));
  EXPECT_EQ(wrong_values.load(), 0);
  double span = 0;
  {
    std::lock_guard lock(times_mutex);
    span = seconds(handled_at.back() - handled_at.front());
  }
  std::printf("[ figures  ] the %d valid records took %.3f s from first to last\n", kRecords - 1,
              span);
  EXPECT_LT(span, 3.0) << "the valid records waited (the retry back-off is 10 s)";

  const auto dead = dead_letters.wait_for(1, 10s);
  ASSERT_EQ(dead.size(), 1u) << "the malformed record did not reach the dead-letter topic";
  EXPECT_EQ(dead[0].value, garbage);
  EXPECT_EQ(header(dead[0], retry_headers::kOriginalOffset), std::to_string(kGarbage));
  EXPECT_EQ(header(dead[0], retry_headers::kRetryAttempt), "1");
  EXPECT_NE(header(dead[0], retry_headers::kErrorType).find("DeserializationError"),
            std::string::npos)
      << header(dead[0], retry_headers::kErrorType);
  EXPECT_NE(header(dead[0], retry_headers::kErrorMessage).find("malformed"), std::string::npos)
      << header(dead[0], retry_headers::kErrorMessage);
  EXPECT_EQ(end_offset(RetryTopicNamer::retry_topic(topic, group, 1)), 0)
      << "the malformed record visited the retry topic";
  EXPECT_TRUE(wait_for_committed(group, topic, kRecords, 10s))
      << "committed: " << describe(committed_offset(group, topic));
  consumer.close(10s);
}

// Closing in the middle of a long back-off returns at once and leaves the
// failed record uncommitted for the next owner.
TEST(RetryIntegrationTest, CloseDuringABlockingBackOffReturnsPromptlyAndKeepsTheRecord) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("blocking-close");
  const auto group = testing::unique_name("group");
  const TopicPartition partition{topic, 0};
  testing::create_topic(cluster, topic, 1);
  produce_range(topic, 0, 3);
  auto options = consumer_options(topic, group);
  options.retry.per_topic[topic] = BlockingRetry{FixedBackOffs{{10min}}};
  HandledRecords handled;
  auto consumer = std::make_unique<Consumer>(options, [&](const Record& record) {
    if (record.offset == 1) throw std::runtime_error("always fails");
    handled.add(record);
  });
  ASSERT_TRUE(wait_for_blocked(*consumer, partition, 1, 20s)) << "offset 1 never blocked";
  ASSERT_TRUE(wait_for_committed(group, topic, 1, 10s))
      << "committed: " << describe(committed_offset(group, topic));

  const auto closing = Clock::now();
  consumer->close(10s);
  const auto took = Clock::now() - closing;
  std::printf("[ figures  ] close() during a 10 min back-off took %lld ms\n", millis(took));
  EXPECT_LT(took, 5s) << "close() waited for the back-off";
  consumer.reset();
  // Closing ends the wait, not the order: what follows the blocked record
  // must not run on this member either.
  EXPECT_EQ(handled_offsets(handled), offsets({{0, 1}}))
      << "records behind the blocked one ran while the consumer closed";
  EXPECT_EQ(committed_offset(group, topic), 1) << "the blocked record was committed";

  HandledRecords again;
  Consumer next(consumer_options(topic, group), [&](const Record& record) { again.add(record); });
  ASSERT_TRUE(again.wait_for_count(2, 20s)) << again.count() << " handled by the next member";
  EXPECT_EQ(handled_offsets(again), offsets({{1, 3}}));
  next.close(10s);
}

// The same with retry topics: the consumer holds the copy in retry-1 until
// it is due, and closing does not wait for that.
TEST(RetryIntegrationTest, CloseWhileARetryTopicRecordWaitsReturnsPromptly) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("retry-close");
  const auto group = testing::unique_name("group");
  const auto retry_topic = RetryTopicNamer::retry_topic(topic, group, 1);
  testing::create_topic(cluster, topic, 1);
  produce_range(topic, 0, 3);
  auto options = consumer_options(topic, group);
  options.retry.per_topic[topic] = RetryTopics{{10min}};
  Attempts attempts;
  auto consumer = std::make_unique<Consumer>(options, [&](const Record& record) {
    if (record.value == "1") {
      attempts.add(record);
      throw std::runtime_error("always fails");
    }
  });
  ASSERT_TRUE(wait_until([&] { return end_offset(retry_topic) == 1; }, 20s))
      << "the failed record never reached " << retry_topic;
  ASSERT_TRUE(wait_for_committed(group, topic, 3, 10s))
      << "committed: " << describe(committed_offset(group, topic));
  std::this_thread::sleep_for(1500ms);  // fetched from retry-1 and waiting for its due time

  const auto closing = Clock::now();
  consumer->close(10s);
  const auto took = Clock::now() - closing;
  std::printf("[ figures  ] close() with a retry-1 record due in 10 min took %lld ms\n",
              millis(took));
  EXPECT_LT(took, 5s) << "close() waited for the retry topic's back-off";
  consumer.reset();
  const auto all = attempts.all();
  ASSERT_EQ(all.size(), 1u) << "the copy in " << retry_topic << " ran before it was due";
  EXPECT_EQ(all[0].topic, topic);
  const auto committed = committed_offset(group, retry_topic);
  EXPECT_TRUE(!committed || *committed == 0)
      << "the waiting copy was committed: " << describe(committed);
}

// A copy that cannot be stored (the dead-letter topic refuses records this
// large) keeps its record uncommitted and the partition where it is.
TEST(RetryIntegrationTest, ACopyTheBrokerRefusesLeavesTheRecordUncommitted) {
  WHIPPET_REQUIRE_BROKER();
  const auto cluster = testing::test_cluster_options();
  const auto topic = testing::unique_name("refused");
  const auto group = testing::unique_name("group");
  testing::create_topic(cluster, topic, 1);
  {
    AdminOptions admin_options;
    admin_options.cluster = cluster;
    AdminClient admin(admin_options);
    // Smaller than any copy with its retry headers: every send is refused.
    admin.create_topic({RetryTopicNamer::dead_letter_topic(topic, group), 1, 1,
                        {{"max.message.bytes", "100"}}});
  }
  produce_range(topic, 0, 3);
  auto options = consumer_options(topic, group);
  // No retries: the first failure goes to the dead-letter topic.
  options.retry.per_topic[topic] = BlockingRetry{FixedBackOffs{}};
  HandledRecords handled;
  Attempts attempts;
  auto consumer = std::make_unique<Consumer>(options, [&](const Record& record) {
    if (record.offset == 1) {
      attempts.add(record);
      throw std::runtime_error("always fails");
    }
    handled.add(record);
  });
  ASSERT_TRUE(handled.wait_for_count(1, 20s)) << "offset 0 was not handled";
  ASSERT_TRUE(wait_until([&] { return attempts.all().size() == 1; }, 10s));
  std::this_thread::sleep_for(3s);  // several rounds of sending the copy again
  EXPECT_EQ(committed_offset(group, topic), 1)
      << "the record whose copy was refused was committed";
  EXPECT_EQ(handled_offsets(handled), offsets({{0, 1}})) << "the partition moved past it";
  EXPECT_EQ(end_offset(RetryTopicNamer::dead_letter_topic(topic, group)), 0);

  const auto closing = Clock::now();
  consumer->close(10s);
  const auto took = Clock::now() - closing;
  std::printf("[ figures  ] close() while the copy is being re-sent took %lld ms\n",
              millis(took));
  EXPECT_LT(took, 5s) << "close() waited for the copy";
  consumer.reset();
  EXPECT_EQ(handled_offsets(handled), offsets({{0, 1}}))
      << "records behind the unstored copy ran while the consumer closed";
  EXPECT_EQ(committed_offset(group, topic), 1) << "committed on close";

  HandledRecords again;
  Consumer next(consumer_options(topic, group), [&](const Record& record) { again.add(record); });
  ASSERT_TRUE(again.wait_for_count(2, 20s)) << again.count() << " handled by the next member";
  EXPECT_EQ(handled_offsets(again), offsets({{1, 3}}));
  next.close(10s);
}

}  // namespace
}  // namespace whippet

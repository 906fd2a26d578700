// The fan-out proxy on the embedded cluster: every subscriber receives every
// record, positions survive reconnects, deadlines push records again.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fanout_fixture.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;

TEST_F(FanoutFixture, EverySubscriberReceivesEveryRecord) {
  produce(2000);
  ReceivedLog first;
  ReceivedLog second;
  auto a = subscribe(request("first"), first);
  auto b = subscribe(request("second"), second);
  ASSERT_TRUE(first.wait_distinct(2000, 30s)) << first.distinct();
  ASSERT_TRUE(second.wait_distinct(2000, 30s)) << second.distinct();
  produce(500, 2000);
  ASSERT_TRUE(first.wait_distinct(2500, 30s)) << first.distinct() << proxy_->snapshot_json();
  ASSERT_TRUE(second.wait_distinct(2500, 30s)) << second.distinct();

  const auto snapshot = nlohmann::json::parse(proxy_->snapshot_json());
  ASSERT_EQ(snapshot["topics"].size(), 1u);
  EXPECT_EQ(snapshot["topics"][0]["records_read"].get<std::uint64_t>(), 2500u)
      << "the topic is read once, not once per subscriber";
  EXPECT_EQ(snapshot["subscribers"].size(), 2u);
}

TEST_F(FanoutFixture, SubscribersOnConnectionsOfTheirOwnReceiveEveryRecordAcrossBlocks) {
  // Generous timeouts: 6000 deliveries take 25-35 s under ThreadSanitizer
  // on a loaded machine. Records of 200 bytes, 750 in each of 4 partitions:
  // three 64 KiB shared blocks a partition, sent and acknowledged in batches
  // that span them.
  std::vector<ProducerRecord> records;
  for (int i = 0; i < 3000; ++i) {
    ProducerRecord record;
    record.topic = topic_;
    record.key = "key-" + std::to_string(i);
    record.value = std::string(200, static_cast<char>('a' + i % 26));
    records.push_back(std::move(record));
  }
  produce_records(std::move(records));
  auto subscribe_alone = [&](const std::string& name, ReceivedLog& log) {
    fanout::FanoutClientOptions options;
    options.address = address_;
    options.request = request(name);
    // Past every wait below, so that "each record once" cannot be broken by
    // a record pushed again after a late acknowledgement (a correct
    // redelivery: under ThreadSanitizer on a loaded machine the whole test
    // took 64 s, past the default 30 s deadline).
    options.request.mutable_flow()->set_ack_deadline_ms(600000);
    options.own_connection = true;
    return std::make_unique<fanout::FanoutClient>(
        options, [&log](const std::vector<fanout::DeliveredRecord>& batch) { log.add(batch); });
  };
  ReceivedLog first;
  ReceivedLog second;
  auto a = subscribe_alone("own-first", first);
  auto b = subscribe_alone("own-second", second);
  ASSERT_TRUE(first.wait_distinct(3000, 90s)) << first.distinct();
  ASSERT_TRUE(second.wait_distinct(3000, 90s)) << second.distinct();
  EXPECT_EQ(first.total(), 3000u) << "each record once";
  EXPECT_EQ(second.total(), 3000u);
  ASSERT_TRUE(eventually([&] { return a->acknowledged() == 3000 && b->acknowledged() == 3000; },
                         90s))
      << a->acknowledged() << " " << b->acknowledged();
}

TEST_F(FanoutFixture, AReconnectingSubscriberResumesFromItsAcknowledgedPosition) {
  produce(1000);
  {
    ReceivedLog log;
    auto client = subscribe(request("resumer"), log);
    ASSERT_TRUE(log.wait_distinct(1000, 30s));
    // Acknowledgements follow each batch; wait until the proxy counted them.
    for (int i = 0; i < 100 && client->acknowledged() < 1000; ++i) std::this_thread::sleep_for(50ms);
    ASSERT_EQ(client->acknowledged(), 1000u);
    client->stop();
  }
  produce(300, 1000);
  ReceivedLog again;
  auto client = subscribe(request("resumer"), again);
  ASSERT_TRUE(again.wait_distinct(300, 30s)) << proxy_->snapshot_json();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(again.distinct(), 300u) << "acknowledged records were pushed again";
  for (const auto& value : again.values()) EXPECT_GE(std::stoi(value), 1000);
}

}  // namespace
}  // namespace whippet

// How the producer hands outcomes over and makes room: the delivery
// tracker's wake-ups, the PendingDelivery block cache, and, end to end on
// the embedded cluster, senders sharing a tiny buffer.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "producer/block_cache.h"
#include "producer/delivery_tracker.h"
#include "support/test_cluster.h"
#include "whippet/embedded_cluster.h"
#include "whippet/producer.h"

namespace whippet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using producer::DeliveryTracker;

// --- DeliveryTracker ---------------------------------------------------------

TEST(DeliveryTrackerTest, CountsRecordsInFlightAndRefusesThemOnceClosed) {
  DeliveryTracker tracker;
  ASSERT_TRUE(tracker.try_start());
  ASSERT_TRUE(tracker.try_start());
  EXPECT_EQ(tracker.in_flight(), 2u);
  tracker.finish();
  EXPECT_EQ(tracker.in_flight(), 1u);
  tracker.close();
  EXPECT_FALSE(tracker.try_start());
  EXPECT_EQ(tracker.in_flight(), 1u) << "a refused record is not counted";
  tracker.finish();
  EXPECT_EQ(tracker.in_flight(), 0u);
}

// Two records in flight, so that one outcome does not make the tracker idle
// (which wakes every waiter), and a sender waiting for room.
std::future<bool> two_in_flight_and_a_sender_waiting(DeliveryTracker& tracker) {
  EXPECT_TRUE(tracker.try_start());
  EXPECT_TRUE(tracker.try_start());
  const auto mark = tracker.room_mark();
  auto waiter = std::async(std::launch::async,
                           [&tracker, mark] { return tracker.wait_for_room(mark, Clock::now() + 20s); });
  std::this_thread::sleep_for(50ms);  // lets the sender fall asleep, not needed for correctness
  return waiter;
}

// Outcomes do not wake a sender waiting for room (their room comes back
// only with their delivery report); the end of the round does, even when the
// round had only one outcome.
TEST(DeliveryTrackerTest, EndOfRoundWakesASenderWaitingForRoom) {
  DeliveryTracker tracker;
  auto waiter = two_in_flight_and_a_sender_waiting(tracker);
  tracker.finish();
  tracker.room_may_be_free();
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready) << "the sender was not woken";
  EXPECT_TRUE(waiter.get());
}

// flush() must not wait for the end of a round: the last outcome wakes it.
TEST(DeliveryTrackerTest, TheLastOutcomeWakesFlushAtOnce) {
  DeliveryTracker tracker;
  ASSERT_TRUE(tracker.try_start());
  ASSERT_TRUE(tracker.try_start());
  auto flushed =
      std::async(std::launch::async, [&] { return tracker.wait_until_idle(Clock::now() + 20s); });
  std::this_thread::sleep_for(50ms);
  tracker.finish();
  EXPECT_EQ(flushed.wait_for(100ms), std::future_status::timeout) << "one record is still in flight";
  tracker.finish();
  ASSERT_EQ(flushed.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(flushed.get());
}

TEST(DeliveryTrackerTest, CloseWakesASenderWaitingForRoomWithNoRoom) {
  DeliveryTracker tracker;
  auto waiter = two_in_flight_and_a_sender_waiting(tracker);
  tracker.close();
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(waiter.get()) << "closing is no reason to enqueue again";
}

TEST(DeliveryTrackerTest, WaitingForRoomEndsAtTheDeadline) {
  DeliveryTracker tracker;
  const auto started = Clock::now();
  EXPECT_FALSE(tracker.wait_for_room(tracker.room_mark(), started + 100ms));
  EXPECT_GE(Clock::now() - started, 100ms);
}

// --- BlockCache --------------------------------------------------------------

// Each test uses a block size of its own, so that no other user of the
// cache interferes with its counts.

// Counts hold across repeats of a test in one process: every block ends
// up in the shared cache, and no test thread keeps a list of its own.
TEST(BlockCacheTest, BlocksFreedOnOneThreadServeAllocationsOnAnother) {
  using Blocks = producer::BlockCache<104>;
  constexpr std::size_t kBlocks = Blocks::kSlabBlocks;
  std::vector<void*> blocks;
  std::thread([&] {
    for (std::size_t index = 0; index < kBlocks; ++index) {
      void* block = Blocks::allocate();
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % 64, 0u) << "blocks start on a cache line";
      std::memset(block, 0xab, 104);  // the whole block is usable
      blocks.push_back(block);
    }
  }).join();
  EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()).size(), kBlocks) << "a block served twice";
  const auto carved = Blocks::carved_blocks();
  EXPECT_EQ(carved - Blocks::shared_blocks(), kBlocks) << "blocks in use";
  EXPECT_EQ(Blocks::shared_blocks(), 0u) << "the allocating thread used a whole slab";
  // Freed on a thread that then exits: full lists move to the shared cache
  // as they fill, the rest when the thread ends.
  std::thread([&] {
    for (void* block : blocks) Blocks::release(block);
  }).join();
  EXPECT_EQ(Blocks::shared_blocks(), carved);
  const std::set<void*> freed(blocks.begin(), blocks.end());
  std::vector<void*> again;
  std::thread([&] {
    for (std::size_t index = 0; index < kBlocks; ++index) again.push_back(Blocks::allocate());
  }).join();
  for (std::size_t index = 0; index < kBlocks; ++index) {
    EXPECT_TRUE(freed.count(again[index])) << "allocation " << index << " was not recycled";
  }
  EXPECT_EQ(std::set<void*>(again.begin(), again.end()).size(), kBlocks) << "a block served twice";
  EXPECT_EQ(Blocks::carved_blocks(), carved) << "no slab carved while blocks were free";
  std::thread([&] {
    for (void* block : again) Blocks::release(block);
  }).join();
}

TEST(BlockCacheTest, TheCacheGrowsBySlabsAndKeepsEveryBlock) {
  using Blocks = producer::BlockCache<88>;
  const std::size_t wanted = 2 * Blocks::kSlabBlocks + 5;
  std::vector<void*> blocks;
  std::thread([&] {
    for (std::size_t index = 0; index < wanted; ++index) blocks.push_back(Blocks::allocate());
  }).join();
  EXPECT_EQ(Blocks::carved_blocks(), 3 * Blocks::kSlabBlocks);
  // Neighbours in a slab: blocks allocated one after another are not spread
  // across the heap between other objects.
  EXPECT_EQ(std::abs(static_cast<char*>(blocks[1]) - static_cast<char*>(blocks[0])),
            static_cast<std::ptrdiff_t>(Blocks::kStride));
  std::thread([&] {
    for (void* block : blocks) Blocks::release(block);
  }).join();
  EXPECT_EQ(Blocks::shared_blocks(), Blocks::carved_blocks()) << "no block went back to the heap";
}

TEST(BlockCacheTest, APeakOfManySlabsIsServed) {
  // Dozens of slabs, as a large buffer filling up carves (8 MB here): the
  // cache's own bookkeeping must grow with them, not explode.
  using Blocks = producer::BlockCache<80>;
  const std::size_t wanted = 64 * Blocks::kSlabBlocks + 1;
  std::vector<void*> blocks;
  blocks.reserve(wanted);
  std::thread([&] {
    for (std::size_t index = 0; index < wanted; ++index) blocks.push_back(Blocks::allocate());
  }).join();
  EXPECT_EQ(Blocks::carved_blocks(), 65 * Blocks::kSlabBlocks);
  EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()).size(), wanted) << "a block served twice";
  std::thread([&] {
    for (void* block : blocks) Blocks::release(block);
  }).join();
  EXPECT_EQ(Blocks::shared_blocks(), Blocks::carved_blocks());
}

// Destroyed after the cache's own thread-local list when it is constructed
// before it: it then allocates and frees through the shared cache alone.
struct LateBlockUser {
  using Blocks = producer::BlockCache<72>;
  bool* served = nullptr;
  ~LateBlockUser() {
    void* block = Blocks::allocate();
    std::memset(block, 0xcd, 72);
    *served = block != nullptr;
    Blocks::release(block);
  }
};

TEST(BlockCacheTest, AThreadWhoseOwnListIsGoneStillAllocatesAndFrees) {
  using Blocks = LateBlockUser::Blocks;
  bool served = false;
  std::thread([&] {
    thread_local LateBlockUser user;
    user.served = &served;
    Blocks::release(Blocks::allocate());  // the thread's own list exists from here
  }).join();
  EXPECT_TRUE(served);
  EXPECT_EQ(Blocks::shared_blocks(), Blocks::carved_blocks()) << "a block was lost";
}

// --- The producer: many senders, a tiny buffer -------------------------------

class ProducerRoomTest : public ::testing::Test {
 protected:
  ProducerOptions options() const {
    ProducerOptions options;
    options.cluster.brokers = cluster_.bootstrap_servers();
    options.delivery_timeout = 30s;
    return options;
  }

  EmbeddedCluster cluster_{EmbeddedCluster::Options{}};
  std::string topic_ = testing::unique_name("producer-room");
};

// Senders blocked on a full buffer are all woken as room comes back;
// nothing is lost or reported twice, and each partition's outcomes come in
// offset order.
TEST_F(ProducerRoomTest, ManySendersOnAFullBufferAllGetEveryOutcomeInOrder) {
  cluster_.create_topic(topic_, 3);
  auto producer_options = options();
  producer_options.max_buffered_records = 4;
  producer_options.buffer_full_timeout = 30s;
  Producer producer(producer_options);
  constexpr int kSenders = 4;
  constexpr int kRecordsEach = 250;
  std::mutex mutex;
  std::map<int32_t, std::vector<int64_t>> offsets_by_partition;
  std::set<std::string> delivered;
  int failures = 0;
  std::vector<std::thread> senders;
  for (int sender = 0; sender < kSenders; ++sender) {
    senders.emplace_back([&, sender] {
      for (int index = 0; index < kRecordsEach; ++index) {
        const auto value = std::to_string(sender) + "-" + std::to_string(index);
        ProducerRecord record;
        record.topic = topic_;
        record.value = value;
        producer.send(std::move(record),
                      [&, value](const Result<RecordMetadata>& result) {
                        std::lock_guard lock(mutex);
                        if (!result.ok()) {
                          ++failures;
                          return;
                        }
                        offsets_by_partition[result.value().partition].push_back(
                            result.value().offset);
                        EXPECT_TRUE(delivered.insert(value).second) << value << " reported twice";
                      });
      }
    });
  }
  for (auto& sender : senders) sender.join();
  producer.flush(30s);
  std::lock_guard lock(mutex);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(delivered.size(), static_cast<std::size_t>(kSenders * kRecordsEach));
  for (const auto& [partition, offsets] : offsets_by_partition) {
    for (std::size_t index = 1; index < offsets.size(); ++index) {
      ASSERT_LT(offsets[index - 1], offsets[index]) << "partition " << partition;
    }
  }
}

// Records that already have their outcome never hold the buffer: right
// after flush(), a full buffer's worth of records is accepted even with no
// time allowed to wait for room (their delivery reports, destroyed later on
// a sending thread, give the room back on demand).
TEST_F(ProducerRoomTest, RecordsWithTheirOutcomeHoldNoRoom) {
  cluster_.create_topic(topic_, 1);
  auto producer_options = options();
  producer_options.max_buffered_records = 10;
  producer_options.buffer_full_timeout = 0ms;
  Producer producer(producer_options);
  for (int burst = 0; burst < 5; ++burst) {
    std::vector<std::future<RecordMetadata>> futures;
    for (int index = 0; index < 10; ++index) {
      ProducerRecord record;
      record.topic = topic_;
      record.value = std::to_string(burst) + "-" + std::to_string(index);
      futures.push_back(producer.send(std::move(record)));
    }
    producer.flush(30s);
    for (auto& future : futures) {
      EXPECT_NO_THROW(future.get()) << "burst " << burst;
    }
  }
}

// close() while senders wait for room: they fail with kShutdown at once,
// not after buffer_full_timeout, and so do the records already buffered.
TEST(ProducerRoomWithoutClusterTest, CloseFailsSendersWaitingForRoomAtOnce) {
  ProducerOptions options;
  options.cluster.brokers = "127.0.0.1:1";
  options.max_buffered_records = 2;
  options.buffer_full_timeout = 60s;
  Producer producer(options);
  std::vector<std::future<RecordMetadata>> buffered;
  for (int index = 0; index < 2; ++index) {
    ProducerRecord record;
    record.topic = "anywhere";
    record.value = "buffered";
    buffered.push_back(producer.send(std::move(record)));
  }
  std::vector<std::future<ErrorCode>> blocked;
  for (int sender = 0; sender < 3; ++sender) {
    blocked.push_back(std::async(std::launch::async, [&producer] {
      ProducerRecord record;
      record.topic = "anywhere";
      record.value = "blocked";
      try {
        producer.send(std::move(record)).get();
      } catch (const Error& error) {
        return error.code();
      }
      return ErrorCode::kKafka;
    }));
  }
  std::this_thread::sleep_for(200ms);
  for (auto& sender : blocked) {
    ASSERT_EQ(sender.wait_for(0s), std::future_status::timeout) << "should wait for room";
  }
  const auto started = Clock::now();
  producer.close(100ms);
  for (auto& sender : blocked) {
    ASSERT_EQ(sender.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(sender.get(), ErrorCode::kShutdown);
  }
  EXPECT_LT(Clock::now() - started, 10s);
  for (auto& future : buffered) {
    try {
      future.get();
      ADD_FAILURE() << "a buffered record was delivered to an unreachable broker";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kShutdown);
    }
  }
  EXPECT_EQ(producer.in_flight(), 0u);
}

}  // namespace
}  // namespace whippet

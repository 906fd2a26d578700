// The sidecar's per-stream writer: what goes first, what it reports as
// written, and how it ends a stream whose client stopped reading or whose
// consumer died.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "delivery_writer.h"

namespace whippet::sidecar {
namespace {

// Records what the writer does, and lets a test block its writes.
struct FakeStream {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<v1::ConsumeResponse> written;
  std::vector<uint64_t> reported;
  bool block_writes = false;
  bool writing = false;
  bool cancelled = false;
  bool broken = false;
  std::atomic<bool> healthy{true};

  DeliveryWriterCallbacks callbacks() {
    return {[this](const v1::ConsumeResponse& message) {
              std::unique_lock lock(mutex);
              writing = true;
              changed.notify_all();
              changed.wait(lock, [&] { return !block_writes || cancelled; });
              if (cancelled) return false;
              written.push_back(message);
              changed.notify_all();
              return true;
            },
            [this] {
              std::lock_guard lock(mutex);
              broken = true;
              changed.notify_all();
            },
            [this](const std::vector<uint64_t>& ids) {
              std::lock_guard lock(mutex);
              reported.insert(reported.end(), ids.begin(), ids.end());
              changed.notify_all();
            },
            [this] {
              std::lock_guard lock(mutex);
              cancelled = true;
              changed.notify_all();
            },
            [this] { return healthy.load(); }};
  }

  template <class Predicate>
  bool wait(Predicate predicate) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), predicate);
  }
};

v1::Delivery delivery(uint64_t id) {
  v1::Delivery message;
  message.set_delivery_id(id);
  message.mutable_record()->set_value("value-" + std::to_string(id));
  return message;
}

TEST(DeliveryWriter, DeliveriesWaitForTheFirstMessageAndAreReportedOnceWritten) {
  FakeStream stream;
  DeliveryWriter writer(stream.callbacks());
  writer.send(delivery(1));
  writer.send(delivery(2));
  v1::ConsumeResponse subscribed;
  subscribed.mutable_subscribed()->set_subscription_id("subscription-1");
  writer.send_first(subscribed);
  ASSERT_TRUE(stream.wait([&] { return stream.reported.size() == 2; }));
  std::lock_guard lock(stream.mutex);
  ASSERT_GE(stream.written.size(), 2u);
  EXPECT_TRUE(stream.written.front().has_subscribed());
  EXPECT_EQ(stream.reported, (std::vector<uint64_t>{1, 2}));
}

TEST(DeliveryWriter, AnUnhealthyConsumerEndsAnIdleStream) {
  FakeStream stream;
  DeliveryWriter writer(stream.callbacks());
  writer.send_first(v1::ConsumeResponse{});
  stream.healthy = false;
  ASSERT_TRUE(stream.wait([&] { return stream.cancelled && stream.broken; }));
}

TEST(DeliveryWriter, StopEndsAWriteTheClientNeverReads) {
  FakeStream stream;
  stream.block_writes = true;
  DeliveryWriter writer(stream.callbacks());
  writer.send_first(v1::ConsumeResponse{});
  ASSERT_TRUE(stream.wait([&] { return stream.writing; }));
  writer.stop();  // returns only because the stream was cancelled
  std::lock_guard lock(stream.mutex);
  EXPECT_TRUE(stream.cancelled);
  EXPECT_TRUE(stream.written.empty());
}

}  // namespace
}  // namespace whippet::sidecar

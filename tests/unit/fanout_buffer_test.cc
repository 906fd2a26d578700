// PartitionBuffer: the shared records of one partition, with offsets that
// may skip (compaction, transaction markers), bounded by records and bytes.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "partition_buffer.h"

namespace whippet::fanout {
namespace {

SharedRecord record_at(int64_t offset, std::size_t value_bytes = 10) {
  Record record;
  record.topic = "orders";
  record.partition = 0;
  record.offset = offset;
  record.value = std::string(value_bytes, 'v');
  return share_record(std::move(record));
}

// What a buffer holding record_at(offset, value_bytes) for these offsets counts.
std::size_t held_bytes(const std::vector<int64_t>& offsets, std::size_t value_bytes = 10) {
  std::size_t bytes = 0;
  for (const auto offset : offsets) bytes += record_at(offset, value_bytes)->memory;
  return bytes;
}

std::vector<int64_t> offsets_of(const std::vector<SharedRecord>& records) {
  std::vector<int64_t> offsets;
  for (const auto& record : records) offsets.push_back(record->offset);
  return offsets;
}

// A buffer holding these offsets (each record `value_bytes` of payload).
PartitionBuffer buffer_with(std::vector<int64_t> offsets, BufferLimits limits = {},
                            std::size_t value_bytes = 10) {
  PartitionBuffer buffer(limits);
  buffer.reset(offsets.front());
  for (const auto offset : offsets) EXPECT_TRUE(buffer.append(record_at(offset, value_bytes)));
  return buffer;
}

TEST(PartitionBuffer, PayloadBytesCountKeyValueAndHeaders) {
  Record record;
  EXPECT_EQ(payload_bytes(record), 0u);
  record.key = "abc";                                  // 3
  record.value = std::string("x\0y", 3);               // 3, zero bytes count
  record.headers = {{"kind", "a"}, {"trace", std::nullopt}, {"kind", "bb"}};  // 5 + 5 + 6
  EXPECT_EQ(payload_bytes(record), 3u + 3u + 5u + 5u + 6u);
}

TEST(PartitionBuffer, AnEmptyBufferStartsWhereItWasReset) {
  PartitionBuffer buffer(BufferLimits{});
  buffer.reset(42);
  EXPECT_EQ(buffer.start(), 42);
  EXPECT_EQ(buffer.end(), 42);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.bytes(), 0u);
  EXPECT_FALSE(buffer.full());
  EXPECT_TRUE(buffer.covers(42)) << "the next record to arrive is covered";
  EXPECT_FALSE(buffer.covers(41));
  EXPECT_FALSE(buffer.covers(43));

  std::vector<SharedRecord> out;
  EXPECT_EQ(buffer.read(42, 10, 1000, out), 42);
  EXPECT_TRUE(out.empty());
}

TEST(PartitionBuffer, AppendsWithOffsetGapsAndReadsFromInsideAGap) {
  auto buffer = buffer_with({10, 11, 15, 16, 20});
  EXPECT_EQ(buffer.start(), 10);
  EXPECT_EQ(buffer.end(), 21);
  EXPECT_EQ(buffer.size(), 5u);
  EXPECT_EQ(buffer.bytes(), held_bytes({10, 11, 15, 16, 20}));

  std::vector<SharedRecord> out;
  // 12 to 14 do not exist: reading from 12 starts at the first record after it.
  EXPECT_EQ(buffer.read(12, 100, 1 << 20, out), 21);
  EXPECT_EQ(offsets_of(out), (std::vector<int64_t>{15, 16, 20}));

  out.clear();
  EXPECT_EQ(buffer.read(17, 100, 1 << 20, out), 21);
  EXPECT_EQ(offsets_of(out), (std::vector<int64_t>{20}));

  out.clear();
  EXPECT_EQ(buffer.read(21, 100, 1 << 20, out), 21) << "nothing past the end";
  EXPECT_TRUE(out.empty());

  // Reading appends to what the caller already holds.
  out = {record_at(1)};
  buffer.read(10, 2, 1 << 20, out);
  EXPECT_EQ(offsets_of(out), (std::vector<int64_t>{1, 10, 11}));
}

TEST(PartitionBuffer, RecordsOlderThanTheEndAreRefused) {
  auto buffer = buffer_with({5, 6, 7});
  EXPECT_FALSE(buffer.append(record_at(6))) << "a duplicate";
  EXPECT_FALSE(buffer.append(record_at(2))) << "an older record";
  EXPECT_EQ(buffer.size(), 3u);
  EXPECT_EQ(buffer.bytes(), held_bytes({5, 6, 7}));
  EXPECT_EQ(buffer.end(), 8);
  EXPECT_TRUE(buffer.append(record_at(9)));
  EXPECT_EQ(buffer.end(), 10);
}

TEST(PartitionBuffer, TrimBelowDropsOlderRecordsAcrossGaps) {
  auto buffer = buffer_with({10, 11, 15, 16, 20});
  buffer.trim_below(13);  // in a gap
  EXPECT_EQ(buffer.start(), 15);
  EXPECT_EQ(buffer.size(), 3u);
  EXPECT_EQ(buffer.bytes(), held_bytes({15, 16, 20}));
  EXPECT_FALSE(buffer.covers(11));
  EXPECT_TRUE(buffer.covers(15));

  buffer.trim_below(15);
  EXPECT_EQ(buffer.start(), 15) << "trim_below keeps the record at the offset itself";

  buffer.trim_below(100);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.bytes(), 0u);
  EXPECT_EQ(buffer.end(), 21) << "trimming does not forget where the next record goes";
  EXPECT_EQ(buffer.start(), 21);
  EXPECT_TRUE(buffer.covers(21));
  EXPECT_FALSE(buffer.covers(20));
  EXPECT_TRUE(buffer.append(record_at(21)));
  EXPECT_FALSE(buffer.append(record_at(20)));
}

TEST(PartitionBuffer, ResetEmptiesAndRefusesRecordsFetchedBeforeIt) {
  auto buffer = buffer_with({0, 1, 2, 3});
  buffer.reset(100);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.bytes(), 0u);
  EXPECT_EQ(buffer.start(), 100);
  EXPECT_EQ(buffer.end(), 100);
  EXPECT_FALSE(buffer.covers(3));
  // The reader still had these in flight when it was moved.
  EXPECT_FALSE(buffer.append(record_at(4)));
  EXPECT_FALSE(buffer.append(record_at(99)));
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_TRUE(buffer.append(record_at(100)));
  EXPECT_TRUE(buffer.append(record_at(101)));
  std::vector<SharedRecord> out;
  EXPECT_EQ(buffer.read(0, 10, 1 << 20, out), 102);
  EXPECT_EQ(offsets_of(out), (std::vector<int64_t>{100, 101}));

  // A reset back in time is allowed too (a subscriber further behind).
  buffer.reset(50);
  EXPECT_TRUE(buffer.append(record_at(50)));
  EXPECT_EQ(buffer.start(), 50);
  EXPECT_EQ(buffer.end(), 51);
}

TEST(PartitionBuffer, ReadStopsAtMaxRecords) {
  auto buffer = buffer_with({0, 1, 2, 3, 4, 5});
  std::vector<SharedRecord> out;
  EXPECT_EQ(buffer.read(1, 3, 1 << 20, out), 4);
  EXPECT_EQ(offsets_of(out), (std::vector<int64_t>{1, 2, 3}));
  out.clear();
  EXPECT_EQ(buffer.read(1, 0, 1 << 20, out), 1) << "max_records 0 takes nothing";
  EXPECT_TRUE(out.empty());
}

TEST(PartitionBuffer, ReadStopsBeforeMaxBytesIsPassedButTakesOneRecordAtLeast) {
  auto buffer = buffer_with({0, 1, 2, 3, 4}, {}, 10);
  std::vector<SharedRecord> out;
  EXPECT_EQ(buffer.read(0, 100, 30, out), 3) << "exactly 30 bytes fit";
  EXPECT_EQ(offsets_of(out), (std::vector<int64_t>{0, 1, 2}));

  out.clear();
  EXPECT_EQ(buffer.read(0, 100, 29, out), 2) << "a third record would pass 29 bytes";
  EXPECT_EQ(out.size(), 2u);

  out.clear();
  EXPECT_EQ(buffer.read(3, 100, 1, out), 4) << "one record larger than max_bytes still goes";
  EXPECT_EQ(offsets_of(out), (std::vector<int64_t>{3}));

  out.clear();
  EXPECT_EQ(buffer.read(3, 100, 0, out), 4);
  EXPECT_EQ(out.size(), 1u);
}

TEST(PartitionBuffer, FullByRecords) {
  PartitionBuffer buffer(BufferLimits{3, 1 << 20});
  buffer.reset(0);
  buffer.append(record_at(0));
  buffer.append(record_at(1));
  EXPECT_FALSE(buffer.full());
  buffer.append(record_at(2));
  EXPECT_TRUE(buffer.full());
  buffer.trim_below(1);
  EXPECT_FALSE(buffer.full()) << "trimming makes room";
}

TEST(PartitionBuffer, FullByBytes) {
  const auto first = held_bytes({0}, 60);
  const auto second = held_bytes({1}, 39);
  const auto third = held_bytes({2}, 1);
  PartitionBuffer buffer(BufferLimits{1000, first + second + third});
  buffer.reset(0);
  buffer.append(record_at(0, 60));
  EXPECT_FALSE(buffer.full());
  buffer.append(record_at(1, 39));
  EXPECT_FALSE(buffer.full()) << "short of the bound by the third record";
  buffer.append(record_at(2, 1));
  EXPECT_TRUE(buffer.full()) << "at the bound";
  EXPECT_EQ(buffer.bytes(), first + second + third);
  buffer.trim_below(1);
  EXPECT_EQ(buffer.bytes(), second + third);
  EXPECT_FALSE(buffer.full());
  buffer.reset(10);
  EXPECT_EQ(buffer.bytes(), 0u);
}

TEST(PartitionBuffer, CoversFromTheOldestHeldToTheNextExpected) {
  auto buffer = buffer_with({10, 12, 14});
  EXPECT_FALSE(buffer.covers(9));
  EXPECT_TRUE(buffer.covers(10));
  EXPECT_TRUE(buffer.covers(11)) << "a gap inside the buffer is covered: nothing is missing";
  EXPECT_TRUE(buffer.covers(14));
  EXPECT_TRUE(buffer.covers(15));
  EXPECT_FALSE(buffer.covers(16)) << "past the next offset expected";
}

TEST(PartitionBuffer, ReadRecordsAreSharedNotCopied) {
  PartitionBuffer buffer(BufferLimits{});
  buffer.reset(0);
  auto record = record_at(0);
  const auto* address = record.get();
  buffer.append(std::move(record));
  std::vector<SharedRecord> out;
  buffer.read(0, 1, 100, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].get(), address);
  buffer.trim_below(1);
  EXPECT_EQ(out[0]->offset, 0) << "a reader's copy outlives the buffer's";
}

}  // namespace
}  // namespace whippet::fanout

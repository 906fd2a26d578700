#pragma once

#include <cstddef>
#include <mutex>
#include <span>
#include <vector>

#include "whippet/record.h"

namespace whippet::consumer {

// Handled records go back to the poll thread, which fills them from new
// messages: their strings keep their capacity, so a steady stream of small
// records costs no allocation per record. It also keeps memory on the thread
// that allocated it: a chunk malloc'ed by the poll thread and freed by a
// worker takes the poll thread's arena lock, and the two then contend for it
// on every record.
//
// Only small records are kept (kMaximumRecordBytes each), up to `max_bytes`
// waiting to be taken and as much taken by the poll thread but not yet
// filled, so the spares hold at most 2 x max_bytes; any other record is
// freed where it was handled, as before.
class RecordRecycler {
 public:
  // A record's strings beyond this are freed, not kept.
  static constexpr std::size_t kMaximumRecordBytes = 4096;

  explicit RecordRecycler(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  RecordRecycler(const RecordRecycler&) = delete;
  RecordRecycler& operator=(const RecordRecycler&) = delete;

  // The bytes a record holds: itself, and the heap behind its strings and
  // its header list.
  static std::size_t held_bytes(const Record& record);
  static bool worth_keeping(const Record& record) {
    return held_bytes(record) <= kMaximumRecordBytes;
  }

  // Any thread (a worker): moves the records it can keep out of `records`;
  // those left behind are the caller's to free. A kept record keeps its
  // headers too: the poll thread, which allocated them, overwrites them in
  // place on the next fill (freeing them here would free the poll thread's
  // memory on a worker, which costs both threads the allocator's locks).
  void give_back(std::span<Record> records) noexcept;

  // Poll thread only: a record to fill, recycled when one is spare (its
  // fields hold stale values: the filler overwrites every one).
  Record take();

  // Spare records, for tests (not while the poll thread takes).
  std::size_t spare() const;

 private:
  const std::size_t max_bytes_;
  // Poll thread only: taken from `returned_` in one swap, so the lock is
  // taken once per refill, not once per record.
  std::vector<Record> ready_;

  mutable std::mutex mutex_;
  std::vector<Record> returned_;
  std::size_t returned_bytes_ = 0;  // held_bytes() of returned_
};

}  // namespace whippet::consumer

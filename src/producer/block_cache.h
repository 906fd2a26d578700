#pragma once

// Recycles the memory of one kind of fixed-size object that one thread
// allocates and another frees: every record's PendingDelivery is allocated
// by a sender and freed by the delivery thread. Through malloc, each such
// free would miss the sender's thread cache and lock the arena that both
// threads use for everything else (librdkafka's messages too), on every
// record. Here each thread keeps a small free list of its own, and lists of
// kBatchBlocks move between threads under one lock.
//
// Blocks are carved from slabs of kSlabBlocks, never from malloc one by one.
// A block malloc'ed by a sender lands between librdkafka's messages, which
// the same thread allocates for each record, and outlives them: the freed
// messages around it cannot merge, and malloc then splits, sorts and
// consolidates chunks on every send (measured: 0.13 us a record on the
// sending thread, a fifth of its CPU, with 1,000,000 records of 100 bytes).
//
// So blocks never go back to the heap: the cache keeps as many as were ever
// in use at once, in this process, for this BlockSize, rounded up to whole
// slabs (for PendingDelivery, 64 bytes for each record that was in flight at
// the peak, plus 8 to 16 for its address in the shared cache's lists: about
// 7.5 MB for a producer whose 100,000-record buffer once filled), and each
// thread holds up to kBatchBlocks of them in its own list, which
// goes to the shared cache when the thread exits. Under AddressSanitizer,
// cached blocks and the padding between blocks are poisoned, so a use after
// release or an overflow into the next block is still reported.

#include <algorithm>
#include <array>
#include <cstddef>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define WHIPPET_POISON_BLOCK(block, size) ASAN_POISON_MEMORY_REGION(block, size)
#define WHIPPET_UNPOISON_BLOCK(block, size) ASAN_UNPOISON_MEMORY_REGION(block, size)
#else
#define WHIPPET_POISON_BLOCK(block, size) static_cast<void>(0)
#define WHIPPET_UNPOISON_BLOCK(block, size) static_cast<void>(0)
#endif

namespace whippet::producer {

template <std::size_t BlockSize>
class BlockCache {
 public:
  static constexpr std::size_t kBatchBlocks = 64;
  static constexpr std::size_t kSlabBlocks = 16 * kBatchBlocks;  // whole lists
  // Blocks start on a cache line: an object that fits one is then fetched
  // with one miss, not two, when its record's delivery report comes in long
  // after it was written.
  static constexpr std::size_t kAlignment = 64;
  static constexpr std::size_t kStride = (BlockSize + kAlignment - 1) / kAlignment * kAlignment;

  // A block of BlockSize bytes, aligned to kAlignment; throws std::bad_alloc.
  static void* allocate() {
    if (thread_exited) return shared().take_one();
    auto& list = local().list;
    if (list.empty()) list = shared().take();
    return list.pop();
  }

  static void release(void* block) noexcept {
    if (block == nullptr) return;
    if (thread_exited) return shared().give_one(block);
    auto& list = local().list;
    if (list.count == kBatchBlocks) shared().give(std::exchange(list, FreeList{}));
    list.push(block);
  }

  // Blocks waiting in the shared cache, and blocks carved so far, for tests.
  static std::size_t shared_blocks() { return shared().blocks(); }
  static std::size_t carved_blocks() { return shared().carved(); }

 private:
  // Free blocks by address, not linked through the blocks: taking one reads
  // only this array. The delivery thread, on the other core, wrote the block
  // last; a link inside it was a load that missed on every allocation (6 %
  // of the sending thread's CPU, measured with perf), where the new object's
  // construction is a store the sender need not wait for.
  struct FreeList {
    std::array<void*, kBatchBlocks> blocks{};
    std::size_t count = 0;

    bool empty() const noexcept { return count == 0; }
    void push(void* block) noexcept {
      // Nothing reads a cached block; LeakSanitizer finds the slabs.
      WHIPPET_POISON_BLOCK(block, BlockSize);
      blocks[count++] = block;
    }
    void* pop() noexcept {
      void* block = blocks[--count];
      WHIPPET_UNPOISON_BLOCK(block, BlockSize);
      // Fetching the next one now hides its miss behind the work until the
      // next allocation.
      if (count > 0) __builtin_prefetch(blocks[count - 1], 1);
      return block;
    }
  };

  class Shared {
   public:
    // A list of blocks: a full one from the cache, else the loose blocks,
    // else a full one carved from a new slab.
    FreeList take() {
      std::lock_guard lock(mutex_);
      if (batches_.empty() && !loose_.empty()) return std::exchange(loose_, FreeList{});
      if (batches_.empty()) carve_slab();
      auto list = batches_.back();
      batches_.pop_back();
      return list;
    }
    void give(FreeList list) noexcept {
      std::lock_guard lock(mutex_);
      if (list.count == kBatchBlocks) return keep(list);
      // A partial list (a thread exiting, or a single block): its blocks
      // join the loose ones, which become a full list once there are enough.
      while (!list.empty()) {
        loose_.push(list.pop());
        if (loose_.count == kBatchBlocks) keep(std::exchange(loose_, FreeList{}));
      }
    }
    // For a thread whose own list is gone (another thread-local object
    // destroyed after it may still allocate or free a block).
    void* take_one() {
      auto list = take();
      void* block = list.pop();
      if (!list.empty()) give(list);
      return block;
    }
    void give_one(void* block) noexcept {
      FreeList list;
      list.push(block);
      give(list);
    }
    std::size_t blocks() {
      std::lock_guard lock(mutex_);
      std::size_t total = loose_.count;
      for (const auto& list : batches_) total += list.count;
      return total;
    }
    std::size_t carved() {
      std::lock_guard lock(mutex_);
      return slabs_.size() * kSlabBlocks;
    }

   private:
    // Never allocates: only full lists are kept, and carve_slab reserved a
    // place for every full list the blocks carved so far can form.
    void keep(FreeList list) noexcept { batches_.push_back(list); }

    void carve_slab() {
      reserve_at_least(slabs_, slabs_.size() + 1);
      reserve_at_least(batches_, (slabs_.size() + 1) * kSlabBlocks / kBatchBlocks);
      auto* slab = static_cast<char*>(
          ::operator new(kSlabBlocks * kStride, std::align_val_t{kAlignment}));
      slabs_.push_back(slab);
      for (std::size_t first = 0; first < kSlabBlocks; first += kBatchBlocks) {
        FreeList list;
        for (std::size_t index = first; index < first + kBatchBlocks; ++index) {
          char* block = slab + index * kStride;
          // Never used, so poisoned for good.
          WHIPPET_POISON_BLOCK(block + BlockSize, kStride - BlockSize);
          list.push(block);
        }
        keep(list);
      }
    }

    // Doubling when it grows, so that a peak of many slabs copies the
    // vectors a few times, not once per slab.
    template <class Vector>
    static void reserve_at_least(Vector& vector, std::size_t size) {
      if (size > vector.capacity()) vector.reserve(std::max(size, 2 * vector.capacity()));
    }

    std::mutex mutex_;
    std::vector<FreeList> batches_;  // full lists only
    FreeList loose_;                 // fewer than kBatchBlocks
    // Kept so that LeakSanitizer sees the slabs as reachable; never freed.
    std::vector<char*> slabs_;
  };

  struct Local {
    FreeList list;
    ~Local() {
      thread_exited = true;
      if (!list.empty()) shared().give(list);
    }
  };

  // Never destroyed: threads may still exit, and give their lists back,
  // while static objects are destroyed at the end of the program.
  static Shared& shared() {
    static auto* instance = new Shared;
    return *instance;
  }
  static Local& local() {
    thread_local Local instance;
    return instance;
  }
  // Trivially destructible, so still readable while the thread's other
  // thread-local objects are destroyed (one of them may free a block).
  static inline thread_local bool thread_exited = false;
};

}  // namespace whippet::producer

#undef WHIPPET_POISON_BLOCK
#undef WHIPPET_UNPOISON_BLOCK

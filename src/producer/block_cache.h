#pragma once

// Recycles the memory of one kind of fixed-size object that one thread
// allocates and another frees: every record's PendingDelivery is allocated
// by a sender and freed by the delivery thread. Through malloc, each such
// free would miss the sender's thread cache and lock the arena that both
// threads use for everything else (librdkafka's messages too), on every
// record. Here each thread keeps a small free list of its own, and whole
// lists of kBatchBlocks move between threads under one lock.
//
// One cache per BlockSize, shared by every producer in the process. It keeps
// at most kMaxSharedBatches lists for other threads; beyond that, blocks go
// back to the heap. A thread's own list goes to the shared cache when it
// exits. Under AddressSanitizer, cached blocks are poisoned but for their
// first 8 bytes (the link to the next one), so a use after release is still
// reported.

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
  static constexpr std::size_t kMaxSharedBatches = 256;
  // Blocks start on a cache line: an object that fits one is then fetched
  // with one miss, not two, when its record's delivery report comes in long
  // after it was written.
  static constexpr std::align_val_t kAlignment{64};

  // A block of BlockSize bytes, aligned to kAlignment; throws std::bad_alloc.
  static void* allocate() {
    if (thread_exited) return ::operator new(BlockSize, kAlignment);
    auto& list = local().list;
    if (list.empty()) list = shared().take();
    if (list.empty()) return ::operator new(BlockSize, kAlignment);
    return list.pop();
  }

  static void release(void* block) noexcept {
    if (block == nullptr) return;
    if (thread_exited) return ::operator delete(block, kAlignment);
    auto& list = local().list;
    if (list.count == kBatchBlocks) shared().give(std::exchange(list, FreeList{}));
    list.push(block);
  }

  // Blocks waiting in the shared cache, for tests.
  static std::size_t shared_blocks() { return shared().blocks(); }

 private:
  static_assert(BlockSize > sizeof(void*), "a free block holds the next one's address");

  struct FreeList {
    void* head = nullptr;
    std::size_t count = 0;

    bool empty() const noexcept { return head == nullptr; }
    void push(void* block) noexcept {
      ::new (block) void*(head);
      // The link stays readable: LeakSanitizer ignores pointers in poisoned
      // memory, and would report every cached block but the first as leaked.
      WHIPPET_POISON_BLOCK(static_cast<char*>(block) + sizeof(void*),
                           BlockSize - sizeof(void*));
      head = block;
      ++count;
    }
    void* pop() noexcept {
      void* block = head;
      WHIPPET_UNPOISON_BLOCK(block, BlockSize);
      head = *std::launder(static_cast<void**>(block));
      --count;
      // Another thread wrote the next block last; fetching it now hides that
      // miss behind the work until the next allocation.
      if (head != nullptr) __builtin_prefetch(head, 1);
      return block;
    }
    void free_all() noexcept {
      while (!empty()) ::operator delete(pop(), kAlignment);
    }
  };

  class Shared {
   public:
    // Reserved up front, so that give() never allocates.
    Shared() { batches_.reserve(kMaxSharedBatches); }

    FreeList take() {
      std::lock_guard lock(mutex_);
      if (batches_.empty()) return {};
      auto list = batches_.back();
      batches_.pop_back();
      return list;
    }
    void give(FreeList list) noexcept {
      {
        std::lock_guard lock(mutex_);
        if (batches_.size() < kMaxSharedBatches) return batches_.push_back(list);
      }
      list.free_all();
    }
    std::size_t blocks() {
      std::lock_guard lock(mutex_);
      std::size_t total = 0;
      for (const auto& list : batches_) total += list.count;
      return total;
    }

   private:
    std::mutex mutex_;
    std::vector<FreeList> batches_;
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

#include "producer/pending_delivery.h"

#include <exception>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include "producer/block_cache.h"

namespace whippet::producer {
namespace {

using PendingDeliveryBlocks = BlockCache<sizeof(PendingDelivery)>;
static_assert(alignof(PendingDelivery) <= PendingDeliveryBlocks::kAlignment);
// One cache line (see BlockCache::kAlignment).
static_assert(sizeof(PendingDelivery) <= 64);

void invoke_callback(const DeliveryCallback& callback, const Result<RecordMetadata>& result) {
  try {
    if (callback) callback(result);
  } catch (const std::exception& error) {
    spdlog::error("delivery callback threw (ignored): {}", error.what());
  } catch (...) {
    spdlog::error("delivery callback threw a non-standard exception (ignored)");
  }
}

template <class Outcome>
void fulfil(std::promise<RecordMetadata>& promise, Outcome&& result) {
  try {
    if (result.ok()) {
      promise.set_value(std::forward<Outcome>(result).value());
    } else {
      promise.set_exception(std::make_exception_ptr(result.error()));
    }
  } catch (const std::exception& error) {
    // Only possible when memory runs out while copying the outcome. The
    // future still gets an Error rather than a broken promise, if the
    // memory for it can be found.
    spdlog::error("cannot fulfil a delivery future: {}", error.what());
    try {
      promise.set_exception(std::make_exception_ptr(
          Error(ErrorCode::kKafka,
                std::string("cannot hand over the delivery outcome: ") + error.what())));
    } catch (...) {
      // Nothing left to try: the future then reports a broken promise.
    }
  }
}

// `Outcome` is Result<RecordMetadata>: moved into a future, or copied; a
// callback gets a reference either way.
template <class Outcome>
void hand_over(std::variant<std::promise<RecordMetadata>, DeliveryCallback>& receiver,
               Outcome&& result) {
  if (auto* promise = std::get_if<std::promise<RecordMetadata>>(&receiver)) {
    fulfil(*promise, std::forward<Outcome>(result));
  } else {
    invoke_callback(std::get<DeliveryCallback>(receiver), result);
  }
}

}  // namespace

// Under AddressSanitizer the heap is used directly: a block reused at once
// from the cache would hide a use after free or a double delete of a
// PendingDelivery (an outcome reported twice) from ASan's quarantine.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheBlocks = false;
#else
constexpr bool kCacheBlocks = true;
#endif

void* PendingDelivery::operator new(std::size_t size) {
  // `final` makes every allocation exactly one PendingDelivery.
  return kCacheBlocks && size == sizeof(PendingDelivery) ? PendingDeliveryBlocks::allocate()
                                                         : ::operator new(size);
}

void PendingDelivery::operator delete(void* block, std::size_t size) noexcept {
  if (kCacheBlocks && size == sizeof(PendingDelivery)) {
    return PendingDeliveryBlocks::release(block);
  }
  ::operator delete(block);
}

void PendingDelivery::complete(Result<RecordMetadata>&& result) noexcept {
  hand_over(outcome_, std::move(result));
}

void PendingDelivery::complete(const Result<RecordMetadata>& result) noexcept {
  hand_over(outcome_, result);
}

}  // namespace whippet::producer

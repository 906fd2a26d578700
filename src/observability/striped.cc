#include "observability/striped.h"

#include <mutex>
#include <vector>

namespace whippet::observability {
namespace {

// Stripes no live thread owns. The mutex also orders a stripe's last writes
// by its former owner before the first writes of the next one.
struct FreeStripes {
  std::mutex mutex;
  std::vector<std::size_t> free;

  FreeStripes() {
    for (std::size_t index = kStripeCount; index > 0; --index) free.push_back(index - 1);
  }
};

FreeStripes& free_stripes() {
  static auto* stripes = new FreeStripes();  // outlives every thread's lease
  return *stripes;
}

// Trivially destructible, so still readable while the thread exits: adds
// made after the lease went back (by other thread_local destructors) use the
// shared stripe instead of one that may belong to another thread by then.
thread_local bool lease_returned = false;

struct OwnedLease {
  StripeLease lease;
  OwnedLease() {
    auto& stripes = free_stripes();
    std::lock_guard lock(stripes.mutex);
    if (!stripes.free.empty()) {
      lease = {stripes.free.back(), true};
      stripes.free.pop_back();
    } else {
      lease = {kStripeCount, false};  // the shared stripe
    }
  }
  ~OwnedLease() {
    lease_returned = true;
    if (!lease.exclusive) return;
    auto& stripes = free_stripes();
    std::lock_guard lock(stripes.mutex);
    stripes.free.push_back(lease.index);
  }
};

}  // namespace

const StripeLease& this_thread_stripe_lease() noexcept {
  static const StripeLease shared{kStripeCount, false};
  if (lease_returned) return shared;
  thread_local const OwnedLease owned;
  return owned.lease;
}

}  // namespace whippet::observability

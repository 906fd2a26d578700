#pragma once

// One admin connection for the whole sidecar, shared by the admin service
// and the consumer service's topic checks. Calls are serialised: admin
// requests are rare next to records.

#include <mutex>
#include <string>
#include <vector>

#include "whippet/admin.h"

namespace whippet::sidecar {

class SharedAdmin {
 public:
  explicit SharedAdmin(AdminOptions options) : admin_(std::move(options)) {}

  template <class Call>
  auto with(Call call) {
    std::lock_guard lock(mutex_);
    return call(admin_);
  }

  // Throws Error(kNotFound) naming the first topic that does not exist.
  void require_topics(const std::vector<std::string>& topics);

 private:
  std::mutex mutex_;
  AdminClient admin_;
};

}  // namespace whippet::sidecar

#include "shared_admin.h"

#include <algorithm>

#include "whippet/error.h"

namespace whippet::sidecar {

void SharedAdmin::require_topics(const std::vector<std::string>& topics) {
  const auto existing = with([](AdminClient& admin) { return admin.list_topics(); });
  for (const auto& topic : topics) {
    if (std::find(existing.begin(), existing.end(), topic) == existing.end()) {
      throw Error(ErrorCode::kNotFound,
                  "topic \"" + topic +
                      "\" does not exist: create it first (AdminService.CreateTopics or "
                      "`whippet topics create`)",
                  ErrorContext::of_topic(topic));
    }
  }
}

}  // namespace whippet::sidecar

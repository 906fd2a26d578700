#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "whippet/admin.h"

namespace whippet::cli {

// Talks to the admin API of a `whippet up` process. Used for what the
// embedded cluster cannot do over the Kafka protocol from another process:
// create and delete topics, list groups, read group offsets.
class AdminApiClient {
 public:
  explicit AdminApiClient(std::string base_url,
                          std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // The bootstrap address the server reports; none when it does not answer.
  std::optional<std::string> health() const;

  // True when created, false when it existed and `if_not_exists` was set.
  // Throws whippet::Error as the server reported it.
  bool create_topic(const NewTopic& topic, bool if_not_exists) const;
  void delete_topic(const std::string& name) const;
  std::vector<GroupListing> list_groups() const;
  // Lets `groups list` show a group that a consumer in another process uses.
  void announce_group(const std::string& group_id) const;
  std::vector<PartitionLag> group_lag(const std::string& group_id,
                                      const std::vector<std::string>& topics) const;

 private:
  std::string base_url_;
  std::chrono::milliseconds timeout_;
};

}  // namespace whippet::cli

#pragma once

// Consumer group questions: which groups exist, where they committed, and
// how far behind they are.

#include <string>
#include <vector>

#include "admin/admin_connection.h"

namespace whippet::admin {

std::vector<GroupListing> list_groups(AdminConnection& connection);

std::vector<PartitionLag> group_lag(AdminConnection& connection, const std::string& group_id,
                                    const std::vector<std::string>& topics);

}  // namespace whippet::admin

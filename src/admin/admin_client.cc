#include "whippet/admin.h"

#include "admin/admin_connection.h"
#include "admin/group_admin.h"
#include "admin/topic_admin.h"

namespace whippet {

// The public class only forwards: each concern lives in its own file
// (topic_admin, group_admin), sharing the connection.
struct AdminClient::Impl {
  explicit Impl(const AdminOptions& options) : connection(options) {}
  admin::AdminConnection connection;
};

AdminClient::AdminClient(AdminOptions options) : impl_(std::make_unique<Impl>(options)) {}

AdminClient::~AdminClient() = default;

void AdminClient::create_topic(const NewTopic& topic, bool if_not_exists) {
  admin::create_topic(impl_->connection, topic, if_not_exists);
}

void AdminClient::delete_topic(const std::string& name) {
  admin::delete_topic(impl_->connection, name);
}

std::vector<std::string> AdminClient::list_topics(bool include_internal) {
  return admin::list_topics(impl_->connection, include_internal);
}

TopicDescription AdminClient::describe_topic(const std::string& name) {
  return admin::describe_topic(impl_->connection, name);
}

std::vector<GroupListing> AdminClient::list_groups() {
  return admin::list_groups(impl_->connection);
}

std::vector<PartitionLag> AdminClient::group_lag(const std::string& group_id,
                                                 const std::vector<std::string>& topics) {
  return admin::group_lag(impl_->connection, group_id, topics);
}

const ResolvedCluster& AdminClient::cluster() const { return impl_->connection.cluster(); }

}  // namespace whippet

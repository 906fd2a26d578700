#include "admin/admin_connection.h"

#include "cluster/embedded_registry.h"
#include "kafka/client_config.h"
#include "kafka/error_translation.h"

namespace whippet::admin {
namespace {

// librdkafka times the request out itself after operation_timeout; the
// queue wait gets this much more so that librdkafka's own answer, which
// says more, normally arrives first.
constexpr std::chrono::milliseconds kQueueWaitGrace{1000};

bool is_timeout_or_transport(rd_kafka_resp_err_t err) {
  switch (kafka::code_for(err)) {
    case ErrorCode::kTimeout:
    case ErrorCode::kBrokerUnreachable:
      return true;
    default:
      return false;
  }
}

bool changes_topics(rd_kafka_admin_op_t operation) {
  switch (operation) {
    case RD_KAFKA_ADMIN_OP_CREATETOPICS:
    case RD_KAFKA_ADMIN_OP_DELETETOPICS:
    case RD_KAFKA_ADMIN_OP_CREATEPARTITIONS:
    case RD_KAFKA_ADMIN_OP_DELETERECORDS:
      return true;
    default:
      return false;
  }
}

}  // namespace

AdminConnection::AdminConnection(const AdminOptions& options)
    : options_(options), cluster_(resolve_cluster(options.cluster)) {
  if (options_.operation_timeout.count() <= 0) {
    throw Error(ErrorCode::kInvalidConfig, "admin: operation_timeout must be positive");
  }
  auto properties = kafka::cluster_properties(cluster_, options_.cluster);
  // Describing a topic must never create it on a broker that auto-creates
  // topics (librdkafka allows it by default for producer-type handles).
  properties["allow.auto.create.topics"] = "false";
  auto conf = kafka::build_conf(properties, options_.cluster.librdkafka_properties);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), &AdminConnection::on_error);
  handle_ = kafka::create_client(RD_KAFKA_PRODUCER, std::move(conf));
}

void AdminConnection::on_error(rd_kafka_t* /*handle*/, int err, const char* reason,
                               void* opaque) noexcept {
  static_cast<AdminConnection*>(opaque)->reachability_.on_client_error(
      static_cast<rd_kafka_resp_err_t>(err), reason);
}

bool AdminConnection::is_mock() const {
  return cluster_.is_embedded() || cluster::is_embedded_address(cluster_.bootstrap_servers);
}

Error AdminConnection::failure(rd_kafka_resp_err_t err, const std::string& what,
                               const ErrorContext& context) {
  if (!is_timeout_or_transport(err)) return kafka::translate(err, what, context);
  // Nothing else polls this handle; serving its queue here runs the error
  // callback for what librdkafka noticed about the connections meanwhile.
  rd_kafka_poll(handle_.get(), 0);
  if (reachability_.all_brokers_down()) {
    return Error(ErrorCode::kBrokerUnreachable,
                 what + ": " + kafka::unreachable_message(cluster_.bootstrap_servers, reachability_),
                 context, true);
  }
  if (kafka::code_for(err) == ErrorCode::kTimeout) {
    return Error(ErrorCode::kTimeout,
                 what + ": no answer within operation_timeout (" +
                     std::to_string(options_.operation_timeout.count()) + " ms)",
                 context, true);
  }
  return kafka::translate(err, what, context);
}

kafka::EventHandle AdminConnection::run(rd_kafka_admin_op_t operation, const std::string& what,
                                        const ErrorContext& context, const Starter& start) {
  kafka::AdminOptionsHandle request_options(rd_kafka_AdminOptions_new(handle_.get(), operation));
  char error_text[512];
  // The request timeout bounds the whole call; the operation timeout is how
  // long the controller waits for e.g. topic creation to complete, and only
  // the operations that change topics accept it.
  if (rd_kafka_AdminOptions_set_request_timeout(request_options.get(), timeout_milliseconds(),
                                                error_text, sizeof error_text) ||
      (changes_topics(operation) &&
       rd_kafka_AdminOptions_set_operation_timeout(request_options.get(), timeout_milliseconds(),
                                                   error_text, sizeof error_text))) {
    throw Error(ErrorCode::kInvalidConfig, what + ": " + error_text, context);
  }
  kafka::QueueHandle queue(rd_kafka_queue_new(handle_.get()));
  start(request_options.get(), queue.get());
  kafka::EventHandle event(rd_kafka_queue_poll(
      queue.get(), static_cast<int>((options_.operation_timeout + kQueueWaitGrace).count())));
  if (!event) throw failure(RD_KAFKA_RESP_ERR__TIMED_OUT, what, context);
  if (const auto err = rd_kafka_event_error(event.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (is_timeout_or_transport(err)) throw failure(err, what, context);
    throw Error(kafka::code_for(err), what + ": " + rd_kafka_event_error_string(event.get()),
                context);
  }
  succeeded();
  return event;
}

kafka::MetadataHandle AdminConnection::all_metadata(const std::string& what) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err = rd_kafka_metadata(handle_.get(), 1, nullptr, &metadata, timeout_milliseconds());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw failure(err, what, {});
  succeeded();
  return kafka::MetadataHandle(metadata);
}

}  // namespace whippet::admin

#include "whippet/consumer.h"

#include "consumer/consumer_engine.h"

namespace whippet {

struct Consumer::Impl {
  Impl(ConsumerOptions options, Handler handler, BatchHandler batch_handler)
      : cluster(resolve_cluster(options.cluster)),
        engine(std::move(options), cluster, std::move(handler), std::move(batch_handler)) {}

  ResolvedCluster cluster;
  consumer::ConsumerEngine engine;
};

Consumer::Consumer(ConsumerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), BatchHandler{})) {}

Consumer::Consumer(ConsumerOptions options, BatchHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), Handler{}, std::move(handler))) {}

Consumer::~Consumer() = default;

void Consumer::close(std::chrono::milliseconds timeout) { impl_->engine.close(timeout); }
bool Consumer::failed() const { return impl_->engine.failed(); }
std::string Consumer::error() const { return impl_->engine.error(); }
ConsumerStats Consumer::stats() const { return impl_->engine.stats(); }
ConsumerSnapshot Consumer::snapshot() const { return impl_->engine.snapshot(); }
void Consumer::pause(const TopicPartition& partition) { impl_->engine.pause(partition); }
void Consumer::resume(const TopicPartition& partition) { impl_->engine.resume(partition); }
void Consumer::skip_blocked(const TopicPartition& partition) {
  impl_->engine.retry_control().skip_blocked(partition);
}
void Consumer::skip_failures(const TopicPartition& partition) {
  impl_->engine.retry_control().skip_failures(partition, true);
}
void Consumer::skip_failures(const std::string& topic) {
  impl_->engine.retry_control().skip_failures(topic, true);
}
void Consumer::block_on_failures(const TopicPartition& partition) {
  impl_->engine.retry_control().skip_failures(partition, false);
}
void Consumer::block_on_failures(const std::string& topic) {
  impl_->engine.retry_control().skip_failures(topic, false);
}
BlockingState Consumer::blocking_state() const { return impl_->engine.blocking_state(); }
bool Consumer::wait_for_assignment(std::chrono::milliseconds timeout) const {
  return impl_->engine.wait_for_assignment(timeout);
}
const ResolvedCluster& Consumer::cluster() const { return impl_->cluster; }

}  // namespace whippet

#include "whippet/consumer.h"

#include "consumer/consumer_engine.h"

namespace whippet {

struct Consumer::Impl {
  Impl(ConsumerOptions options, Handler handler)
      : cluster(resolve_cluster(options.cluster)),
        engine(std::move(options), cluster, std::move(handler)) {}

  ResolvedCluster cluster;
  consumer::ConsumerEngine engine;
};

Consumer::Consumer(ConsumerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Consumer::~Consumer() = default;

void Consumer::close(std::chrono::milliseconds timeout) { impl_->engine.close(timeout); }
bool Consumer::failed() const { return impl_->engine.failed(); }
std::string Consumer::error() const { return impl_->engine.error(); }
ConsumerStats Consumer::stats() const { return impl_->engine.stats(); }
ConsumerSnapshot Consumer::snapshot() const { return impl_->engine.snapshot(); }
void Consumer::pause(const TopicPartition& partition) { impl_->engine.pause(partition); }
void Consumer::resume(const TopicPartition& partition) { impl_->engine.resume(partition); }
bool Consumer::wait_for_assignment(std::chrono::milliseconds timeout) const {
  return impl_->engine.wait_for_assignment(timeout);
}
const ResolvedCluster& Consumer::cluster() const { return impl_->cluster; }

}  // namespace whippet

#include "whippet/cluster.h"
#include "whippet/embedded_cluster.h"

namespace whippet {

ResolvedCluster resolve_cluster(const ClusterOptions& options) {
  // The WHIPPET_BROKERS override is applied when configuration is loaded,
  // not here: a client built from explicit options does what they say.
  if (!options.brokers.empty()) return ResolvedCluster{options.brokers, nullptr};
  auto embedded = EmbeddedCluster::shared();
  auto bootstrap_servers = embedded->bootstrap_servers();
  return ResolvedCluster{std::move(bootstrap_servers), std::move(embedded)};
}

}  // namespace whippet

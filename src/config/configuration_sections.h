#pragma once

// How each section of the YAML configuration maps onto an options struct.
// The keys read here are the complete list of valid keys.

#include "config/yaml_section.h"
#include "whippet/config.h"

namespace whippet::config {

void read_cluster(YamlSection& section, ClusterOptions& options);
void read_producer(YamlSection& section, ProducerOptions& options);
void read_consumer(YamlSection& section, ConsumerOptions& options);
void read_admin(YamlSection& section, AdminOptions& options);

// Every client gets the one `cluster` section.
void share_cluster(WhippetConfig& config);

}  // namespace whippet::config

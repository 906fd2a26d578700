#pragma once

#include <string>

#include <librdkafka/rdkafka.h>

#include "whippet/error.h"

namespace whippet::kafka {

// Maps a librdkafka error to Whippet's codes, keeping librdkafka's text and
// adding what it concerns.
ErrorCode code_for(rd_kafka_resp_err_t err);
Error translate(rd_kafka_resp_err_t err, const std::string& what, ErrorContext context = {});
Error translate(const rd_kafka_error_t* error, const std::string& what, ErrorContext context = {});

}  // namespace whippet::kafka

#pragma once

// How SDK errors travel over gRPC: a status whose code a client can branch on
// (NOT_FOUND, INVALID_ARGUMENT, UNAVAILABLE, ...) and whose message names the
// SDK's error code, or a typed whippet.v1.Error inside a response.

#include <grpcpp/support/status.h>

#include <string>

#include "whippet/error.h"
#include "whippet/v1/records.pb.h"

namespace whippet::sidecar {

grpc::StatusCode status_code_of(const Error& error);
// "[UNKNOWN_TOPIC] topic orders does not exist ..."
grpc::Status to_status(const Error& error);
grpc::Status invalid_argument(const std::string& message);

v1::ErrorCode to_proto(ErrorCode code);
void fill_error(const Error& error, v1::Error* message);

}  // namespace whippet::sidecar

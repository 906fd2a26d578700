#pragma once

// The readable name of a C++ type, e.g. "std::runtime_error": how metrics
// label a handler's failure and how dead-lettered copies name their error.

#include <exception>
#include <string>
#include <typeinfo>

namespace whippet::common {

std::string type_name(const std::type_info& type);

// How an error is named in metrics and dead-letter headers: the type a
// ReportedFailure was given, or else the exception's own type.
std::string error_type_of(const std::exception& error);

}  // namespace whippet::common

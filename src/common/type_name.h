#pragma once

// The readable name of a C++ type, e.g. "std::runtime_error": how metrics
// label a handler's failure and how dead-lettered copies name their error.

#include <string>
#include <typeinfo>

namespace whippet::common {

std::string type_name(const std::type_info& type);

}  // namespace whippet::common

#include "common/type_name.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include "whippet/retry.h"

namespace whippet::common {

std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && demangled ? std::string(demangled.get()) : std::string(type.name());
}

std::string error_type_of(const std::exception& error) {
  if (const auto* reported = dynamic_cast<const ReportedFailure*>(&error)) return reported->type();
  return type_name(typeid(error));
}

}  // namespace whippet::common

#include "observability/labeled_counters.h"

namespace whippet::observability {

std::string LabelValueLimit::admit(std::string_view value) {
  std::lock_guard lock(mutex_);
  if (admitted_.contains(value)) return std::string(value);
  if (admitted_.size() >= capacity_) return std::string(kOverflowValue);
  return *admitted_.emplace(value).first;
}

void LabeledCounters::increment(std::string_view value, LabelValueLimit* limit) {
  std::lock_guard lock(mutex_);
  if (const auto found = counts_.find(value); found != counts_.end()) {
    ++found->second;
    return;
  }
  // Only the first sighting in this series consults the sink-wide limit.
  ++counts_[limit != nullptr ? limit->admit(value) : std::string(value)];
}

std::vector<std::pair<std::string, std::uint64_t>> LabeledCounters::snapshot() const {
  std::lock_guard lock(mutex_);
  return {counts_.begin(), counts_.end()};
}

}  // namespace whippet::observability

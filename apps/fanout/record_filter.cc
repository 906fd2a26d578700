#include "record_filter.h"

#include <fmt/format.h>

#include <algorithm>

namespace whippet::fanout {

RecordFilter::RecordFilter(std::vector<HeaderCondition> headers, std::set<Bytes> keys,
                           std::optional<Bytes> key_prefix)
    : headers_(std::move(headers)), keys_(std::move(keys)), key_prefix_(std::move(key_prefix)) {}

bool RecordFilter::matches(const std::optional<Bytes>& key, const Headers& headers) const {
  for (const auto& condition : headers_) {
    const auto found = std::find_if(headers.rbegin(), headers.rend(),
                                    [&](const Header& header) { return header.key == condition.key; });
    if (found == headers.rend()) return false;
    if (condition.value && found->value != condition.value) return false;
  }
  if (!keys_.empty() && (!key || !keys_.contains(*key))) return false;
  if (key_prefix_ && (!key || !key->starts_with(*key_prefix_))) return false;
  return true;
}

std::string RecordFilter::describe() const {
  if (empty()) return "all records";
  return fmt::format("{} header condition(s), {} key(s){}", headers_.size(), keys_.size(),
                     key_prefix_ ? ", a key prefix" : "");
}

}  // namespace whippet::fanout

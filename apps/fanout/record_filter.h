#pragma once

// Which records a subscriber wants: all conditions given must hold. Records
// that do not match still move the subscriber's position on.

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "whippet/record.h"

namespace whippet::fanout {

struct HeaderCondition {
  std::string key;
  std::optional<Bytes> value;  // nullopt: the header only has to be present
};

class RecordFilter {
 public:
  RecordFilter() = default;
  RecordFilter(std::vector<HeaderCondition> headers, std::set<Bytes> keys,
               std::optional<Bytes> key_prefix);

  bool matches(const Record& record) const { return matches(record.key, record.headers); }
  bool matches(const std::optional<Bytes>& key, const Headers& headers) const;
  bool empty() const { return headers_.empty() && keys_.empty() && !key_prefix_; }
  std::string describe() const;

 private:
  std::vector<HeaderCondition> headers_;
  std::set<Bytes> keys_;
  std::optional<Bytes> key_prefix_;
};

}  // namespace whippet::fanout

#include "subscriber_cursor.h"

#include <algorithm>

namespace whippet::fanout {

std::size_t InFlightRecords::acknowledge(int64_t first, int64_t last) {
  auto entry = std::lower_bound(
      records_.begin(), records_.end(), first,
      [](const InFlightRecord& record, int64_t offset) { return record.offset < offset; });
  std::size_t acknowledged = 0;
  for (; entry != records_.end() && entry->offset <= last; ++entry) {
    if (entry->acknowledged) continue;
    entry->acknowledged = true;
    entry->record.reset();  // the memory goes now, not when the front moves
    ++acknowledged;
  }
  unacknowledged_ -= acknowledged;
  while (!records_.empty() && records_.front().acknowledged) records_.pop_front();
  return acknowledged;
}

}  // namespace whippet::fanout

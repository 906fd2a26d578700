#include "consumer/unread_headers.h"

#include "kafka/record_conversion.h"

namespace whippet::consumer {

void read_unread_headers(Record& record, kafka::MessageHandle& unread) {
  if (!unread) return;
  kafka::read_headers(*unread, record.headers);
  unread.reset();
}

void read_unread_headers(std::span<Record> records, UnreadHeaders& unread) {
  for (std::size_t i = 0; i < unread.size() && i < records.size(); ++i) {
    read_unread_headers(records[i], unread[i]);
  }
  unread.clear();
}

}  // namespace whippet::consumer

#pragma once

// A SubscribeEvent of deliveries assembled from the records' pre-encoded
// bytes (FanoutRecord::encoded). The deliveries field is carried as a
// length-delimited unknown field of the event: protobuf writes unknown
// fields out verbatim, so the bytes on the wire are exactly those of an
// event whose deliveries were set field by field, and every client parses
// an ordinary SubscribeEvent. What a subscriber costs the proxy per record
// is then a copy of its bytes, not a message built and serialised again.

#include <cstdint>
#include <string>

#include "fanout_record.h"
#include "whippet/v1/fanout.pb.h"

namespace whippet::fanout {

class EncodedDeliveries {
 public:
  EncodedDeliveries();
  // deliveries_ points into event_: a copy or a move would point into the
  // other object's event.
  EncodedDeliveries(const EncodedDeliveries&) = delete;
  EncodedDeliveries& operator=(const EncodedDeliveries&) = delete;

  // Empties the event; the bytes' allocation is kept for the next batch.
  void clear();
  void add(const FanoutRecord& record, std::uint32_t attempt);
  const v1::SubscribeEvent& event() const { return event_; }

 private:
  v1::SubscribeEvent event_;
  std::string* deliveries_;  // the unknown field's bytes, owned by event_
};

}  // namespace whippet::fanout

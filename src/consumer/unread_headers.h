#pragma once

#include <span>
#include <vector>

#include "kafka/handles.h"
#include "whippet/record.h"

namespace whippet::consumer {

// The librdkafka messages of a batch of records whose headers are still to
// be read, element for element (a null element: read already). Reading
// headers allocates inside librdkafka, even for a message without any, so
// the poll thread (the consumer's bottleneck) leaves it to the worker that
// runs the handler. Until then the message, and the fetch buffer it points
// into, stay alive: the engine defers only while a partition's queue is
// short (kMaximumUnreadHeaders).
//
// Empty when every header of the batch was read already.
using UnreadHeaders = std::vector<kafka::MessageHandle>;

// Completes one record; frees its message.
void read_unread_headers(Record& record, kafka::MessageHandle& unread);

// Completes every record of a batch (for strategies that do not defer);
// `unread` is empty afterwards.
void read_unread_headers(std::span<Record> records, UnreadHeaders& unread);

}  // namespace whippet::consumer

#pragma once

#include <functional>
#include <span>

#include "whippet/record.h"
#include "whippet/serde.h"

namespace whippet {

// A handler is a value: a function of one record. Failure is an exception.
// Retries, deserialisation, metrics and context extraction wrap it as
// decorators (functions from Handler to Handler).
using Handler = std::function<void(const Record&)>;

// Receives a partition's records together, in offset order.
using BatchHandler = std::function<void(std::span<const Record>)>;

// Decorator: deserialises the value with `serde` and hands the typed value
// (and the record, for its key, headers and position) to `typed`.
// Undeserialisable bytes throw DeserializationError, which is never retried.
template <Serde S, class TypedHandler>
  requires std::invocable<TypedHandler, const typename S::Value&, const Record&>
Handler deserializing(S serde, TypedHandler typed) {
  return [serde = std::move(serde), typed = std::move(typed)](const Record& record) {
    if (!record.value) {
      throw DeserializationError("record " + record.topic + "-" + std::to_string(record.partition) +
                                 "@" + std::to_string(record.offset) + " has no value (tombstone)");
    }
    typed(serde.deserialize(*record.value), record);
  };
}

}  // namespace whippet

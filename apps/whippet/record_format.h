#pragma once

#include <string>
#include <string_view>

#include "whippet/record.h"

namespace whippet::cli {

enum class OutputFormat { kText, kJson };

bool is_valid_utf8(std::string_view bytes);

// Printable as-is where the bytes are valid, printable UTF-8; control
// characters, backslashes and invalid bytes become C-style escapes (\n, \\, \xNN).
std::string escape_text(std::string_view bytes);

std::string base64_encode(std::string_view bytes);

// One line, without the newline:
//   text: orders/2@7 key=order-1 [source=demo] {"id":1}
//         (no key: key=(none); tombstone: (null); no headers: no brackets)
//   json: {"topic":..,"partition":..,"offset":..,"timestamp":ms since epoch,
//          "key":..,"value":..,"headers":[{"key":..,"value":..}]}
//         A key or value that is not valid UTF-8 is base64 and flagged with
//         "key_encoding":"base64" / "value_encoding":"base64" (likewise
//         "value_encoding" inside a header); header names are escaped as in text.
std::string format_record(const Record& record, OutputFormat format);

}  // namespace whippet::cli

#pragma once

// Names the calling thread, so that top -H, perf and a debugger tell
// Whippet's threads apart from the application's and from librdkafka's
// ("rdk:broker1"); a name longer than 15 characters is cut there.

namespace whippet::common {

void name_this_thread(const char* name) noexcept;

}  // namespace whippet::common

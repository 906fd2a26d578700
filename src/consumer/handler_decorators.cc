#include "consumer/handler_decorators.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string_view>
#include <typeinfo>
#include <utility>

#include "common/type_name.h"
#include "consumer/handler_start.h"
#include "whippet/retry.h"
#include "whippet/trace_context.h"

namespace whippet::consumer {
namespace {

// The consumer's label sets, bound with the reporter's sinks once per topic
// (group and handler never change), so that a record costs no label string
// and no series lookup. Append-only: workers find a topic with one acquire
// load and a string comparison per topic ahead of it, without a lock; only
// a topic's first record takes the mutex. As many entries as topics this
// consumer receives, which its subscription bounds.
class TopicReporters {
 public:
  TopicReporters(metrics::MetricsReporter reporter, std::string group, std::string handler_name)
      : reporter_(std::move(reporter)),
        group_(std::move(group)),
        handler_name_(std::move(handler_name)) {}
  ~TopicReporters() {
    for (auto* entry = head_.load(std::memory_order_relaxed); entry != nullptr;) {
      delete std::exchange(entry, entry->next);
    }
  }
  TopicReporters(const TopicReporters&) = delete;
  TopicReporters& operator=(const TopicReporters&) = delete;

  // Throws (std::bad_alloc) only when binding a new topic fails.
  const metrics::ConsumerReporter& of(std::string_view topic) {
    if (const auto* found = find(head_.load(std::memory_order_acquire), topic)) {
      return found->reporter;
    }
    std::lock_guard lock(mutex_);
    auto* head = head_.load(std::memory_order_relaxed);
    if (const auto* found = find(head, topic)) return found->reporter;
    auto* entry = new Entry{std::string(topic),
                            reporter_.bind_consumer({std::string(topic), group_, handler_name_}),
                            head};
    head_.store(entry, std::memory_order_release);
    return entry->reporter;
  }

 private:
  struct Entry {
    const std::string topic;
    const metrics::ConsumerReporter reporter;
    Entry* const next;
  };

  static const Entry* find(const Entry* entry, std::string_view topic) {
    for (; entry != nullptr; entry = entry->next) {
      if (entry->topic == topic) return entry;
    }
    return nullptr;
  }

  const metrics::MetricsReporter reporter_;
  const std::string group_;
  const std::string handler_name_;
  std::mutex mutex_;
  std::atomic<Entry*> head_{nullptr};
};

// Reports the handler's outcome; a failure to report (binding a new topic
// ran out of memory) never fails the record.
template <typename Report>
void report_outcome(TopicReporters& reporters, std::string_view topic, Report report) noexcept {
  try {
    report(reporters.of(topic));
  } catch (...) {
  }
}

}  // namespace

Handler with_trace_context(Handler handler, std::vector<std::string> context_headers) {
  return [handler = std::move(handler),
          context_headers = std::move(context_headers)](const Record& record) {
    // Parsed only if the handler produces (or asks): most handlers do not.
    ScopedHeaderTraceContext scope(record.headers, context_headers);
    handler(record);
  };
}

Handler with_metrics(Handler handler, metrics::MetricsReporter reporter, std::string group,
                     std::string handler_name) {
  // Shared: the engine may copy the handler, and every copy should bind once.
  auto reporters = std::make_shared<TopicReporters>(std::move(reporter), std::move(group),
                                                    std::move(handler_name));
  return [handler = std::move(handler), reporters = std::move(reporters)](const Record& record) {
    const auto start = handler_start::take();
    try {
      handler(record);
    } catch (const RecordAbandoned&) {
      throw;  // neither handled nor failed: the record goes to its next owner
    } catch (const std::exception& error) {
      const auto duration = std::chrono::steady_clock::now() - start;
      const auto error_type = common::error_type_of(error);
      report_outcome(*reporters, record.topic, [&](const metrics::ConsumerReporter& topic) {
        topic.record_failed(duration, error_type);
      });
      throw;
    } catch (...) {
      const auto duration = std::chrono::steady_clock::now() - start;
      report_outcome(*reporters, record.topic, [&](const metrics::ConsumerReporter& topic) {
        topic.record_failed(duration, "unknown");
      });
      throw;
    }
    const auto duration = handler_start::finish() - start;
    report_outcome(*reporters, record.topic, [&](const metrics::ConsumerReporter& topic) {
      topic.record_handled(duration);
    });
  };
}

}  // namespace whippet::consumer

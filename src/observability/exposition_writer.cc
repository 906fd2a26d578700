#include "observability/exposition_writer.h"

#include <charconv>
#include <cmath>

namespace whippet::observability {
namespace {

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and line feed (quotes stay as they are).
std::string escape_help(std::string_view help) {
  std::string escaped;
  escaped.reserve(help.size());
  for (const char character : help) {
    if (character == '\\') {
      escaped += "\\\\";
    } else if (character == '\n') {
      escaped += "\\n";
    } else {
      escaped += character;
    }
  }
  return escaped;
}

std::string format_integer(std::uint64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (const char character : value) {
    if (character == '\\') {
      escaped += "\\\\";
    } else if (character == '"') {
      escaped += "\\\"";
    } else if (character == '\n') {
      escaped += "\\n";
    } else {
      escaped += character;
    }
  }
  return escaped;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Shortest round-trip digits. Plain notation in the range durations,
  // counts and offsets live in, so that a bucket reads le="0.0005" rather
  // than le="5e-04"; exponents only for the extremes.
  const double magnitude = std::fabs(value);
  const bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  char buffer[64];
  const auto result = plain ? std::to_chars(buffer, buffer + sizeof buffer, value,
                                            std::chars_format::fixed)
                            : std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

void ExpositionWriter::begin_family(std::string_view name, MetricType type,
                                    std::string_view help) {
  family_name_ = name;
  pending_header_ = "# HELP " + family_name_ + " " + escape_help(help) + "\n# TYPE " +
                    family_name_ + " " + std::string(type_name(type)) + "\n";
}

void ExpositionWriter::write_header_once() {
  text_ += pending_header_;
  pending_header_.clear();
}

void ExpositionWriter::write_sample(std::string_view suffix, std::span<const Label> labels,
                                    const Label* extra_label, std::string_view value) {
  write_header_once();
  text_ += family_name_;
  text_ += suffix;
  if (!labels.empty() || extra_label != nullptr) {
    text_ += '{';
    bool first = true;
    auto append = [&](const Label& label) {
      if (!first) text_ += ',';
      first = false;
      text_ += label.first;
      text_ += "=\"";
      text_ += escape_label_value(label.second);
      text_ += '"';
    };
    for (const auto& label : labels) append(label);
    if (extra_label != nullptr) append(*extra_label);
    text_ += '}';
  }
  text_ += ' ';
  text_ += value;
  text_ += '\n';
}

void ExpositionWriter::sample(std::span<const Label> labels, std::uint64_t value) {
  write_sample("", labels, nullptr, format_integer(value));
}

void ExpositionWriter::sample(std::span<const Label> labels, double value) {
  write_sample("", labels, nullptr, format_value(value));
}

void ExpositionWriter::histogram(std::span<const Label> labels,
                                 const HistogramSnapshot& snapshot) {
  for (std::size_t index = 0; index < snapshot.cumulative_counts.size(); ++index) {
    const auto bound = index < snapshot.upper_bounds.size()
                           ? format_value(snapshot.upper_bounds[index])
                           : std::string("+Inf");
    const Label le{"le", bound};
    write_sample("_bucket", labels, &le, format_integer(snapshot.cumulative_counts[index]));
  }
  write_sample("_sum", labels, nullptr, format_value(snapshot.sum_seconds));
  write_sample("_count", labels, nullptr, format_integer(snapshot.count));
}

}  // namespace whippet::observability

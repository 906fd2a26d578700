#pragma once

// Writes the Prometheus text exposition format, version 0.0.4:
// https://prometheus.io/docs/instrumenting/exposition_formats/
// A family's HELP and TYPE lines are written only once its first sample
// arrives, so that metrics nothing has reported yet stay out of the page.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "observability/histogram.h"

namespace whippet::observability {

using Label = std::pair<std::string_view, std::string_view>;  // name, value

enum class MetricType { kCounter, kGauge, kHistogram };

// Backslash, double quote and line feed, escaped as the format requires.
std::string escape_label_value(std::string_view value);

// Integers exactly; other values in the shortest form that reads back the
// same; NaN and infinities as Prometheus spells them.
std::string format_value(double value);

class ExpositionWriter {
 public:
  // Names the family that the following samples belong to. Every sample of a
  // family must follow its header without another family in between.
  void begin_family(std::string_view name, MetricType type, std::string_view help);

  void sample(std::span<const Label> labels, std::uint64_t value);
  void sample(std::span<const Label> labels, double value);
  // The _bucket series (with le, cumulative, ending with +Inf), _sum and _count.
  void histogram(std::span<const Label> labels, const HistogramSnapshot& snapshot);

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  void write_header_once();
  void write_sample(std::string_view suffix, std::span<const Label> labels,
                    const Label* extra_label, std::string_view value);

  std::string text_;
  std::string family_name_;
  std::string pending_header_;
};

}  // namespace whippet::observability

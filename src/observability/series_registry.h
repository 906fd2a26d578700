#pragma once

// Finds the per-label-set object an event updates. Lookups share a reader
// lock, so worker threads reporting at once do not serialise on it; only
// the first event of a new label set takes the writer lock. Series are
// never removed: their addresses stay valid and counters stay monotonic.

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace whippet::observability {

template <std::size_t LabelCount, typename Series>
class SeriesRegistry {
 public:
  using Key = std::array<std::string, LabelCount>;
  using KeyView = std::array<std::string_view, LabelCount>;

  // The series for these label values, created on first use. The key is
  // looked up as views: no string is copied unless the series is new.
  Series& find_or_create(const KeyView& key) {
    {
      std::shared_lock lock(mutex_);
      if (const auto found = series_.find(key); found != series_.end()) return *found->second;
    }
    std::unique_lock lock(mutex_);
    auto [position, inserted] = series_.try_emplace(to_key(key));
    if (inserted) position->second = std::make_unique<Series>();
    return *position->second;
  }

  // Calls visit(key, series) for every series in label order, so that the
  // rendered page is stable from one scrape to the next.
  template <typename Visitor>
  void for_each(Visitor&& visit) const {
    std::shared_lock lock(mutex_);
    for (const auto& [key, series] : series_) visit(key, *series);
  }

 private:
  // Compares stored keys and looked-up views alike (std::map's transparent
  // lookup), element by element.
  struct KeyLess {
    using is_transparent = void;
    template <typename Left, typename Right>
    bool operator()(const Left& left, const Right& right) const {
      return std::lexicographical_compare(
          left.begin(), left.end(), right.begin(), right.end(),
          [](std::string_view first, std::string_view second) { return first < second; });
    }
  };

  static Key to_key(const KeyView& view) {
    Key key;
    std::copy(view.begin(), view.end(), key.begin());
    return key;
  }

  mutable std::shared_mutex mutex_;
  std::map<Key, std::unique_ptr<Series>, KeyLess> series_;
};

}  // namespace whippet::observability

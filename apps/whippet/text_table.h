#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace whippet::cli {

// A plain aligned table for terminals and for grep/awk: one row per line,
// columns separated by at least two spaces, numbers right-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headings);
  void add_row(std::vector<std::string> cells);
  void print(std::FILE* out) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headings_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace whippet::cli

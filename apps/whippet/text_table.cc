#include "text_table.h"

#include <algorithm>

#include <fmt/core.h>

namespace whippet::cli {
namespace {

bool is_number(const std::string& cell) {
  const auto digits = cell.starts_with('-') ? cell.substr(1) : cell;
  return !digits.empty() &&
         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

TextTable::TextTable(std::vector<std::string> headings) : headings_(std::move(headings)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(headings_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::print(std::FILE* out) const {
  std::vector<std::size_t> widths(headings_.size());
  // A column of numbers (and "-" for none) is right-aligned.
  std::vector<bool> numeric(headings_.size(), false);
  for (std::size_t column = 0; column < headings_.size(); ++column) {
    widths[column] = headings_[column].size();
    bool only_numbers = true;
    bool any_number = false;
    for (const auto& row : rows_) {
      widths[column] = std::max(widths[column], row[column].size());
      any_number = any_number || is_number(row[column]);
      only_numbers = only_numbers && (is_number(row[column]) || row[column] == "-");
    }
    numeric[column] = any_number && only_numbers;
  }
  const auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t column = 0; column < cells.size(); ++column) {
      if (column > 0) line += "  ";
      line += numeric[column] ? fmt::format("{:>{}}", cells[column], widths[column])
                              : fmt::format("{:<{}}", cells[column], widths[column]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print(out, "{}\n", line);
  };
  print_row(headings_);
  for (const auto& row : rows_) print_row(row);
}

}  // namespace whippet::cli

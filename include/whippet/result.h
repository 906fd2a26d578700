#pragma once

#include <utility>
#include <variant>

#include "whippet/error.h"

namespace whippet {

// A value or the Error that prevented it; used on hot paths and in callbacks
// where throwing is not an option.
template <class T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return std::holds_alternative<T>(state_); }
  explicit operator bool() const noexcept { return ok(); }

  // The value; throws the Error when there is none.
  const T& value() const& {
    if (!ok()) throw std::get<Error>(state_);
    return std::get<T>(state_);
  }
  T& value() & {
    if (!ok()) throw std::get<Error>(state_);
    return std::get<T>(state_);
  }
  T&& value() && {
    if (!ok()) throw std::get<Error>(state_);
    return std::get<T>(std::move(state_));
  }
  // Only valid when !ok().
  const Error& error() const& { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace whippet

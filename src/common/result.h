// Result<T>: a value or an error Status. Checked on the next line by the caller.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "common/status.h"

namespace clinshub {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Status take_status() { return ok() ? Status() : std::move(std::get<Status>(v_)); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace clinshub

// Early return on error: CLINSHUB_RETURN_IF_ERROR(store.Commit(batch));
#define CLINSHUB_RETURN_IF_ERROR(expr)          \
  do {                                          \
    ::clinshub::Status _st = (expr);            \
    if (!_st.ok()) return _st;                  \
  } while (0)

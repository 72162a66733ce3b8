// File: util/status_macros.h
//
// FLEETSIM_RETURN_IF_ERROR and FLEETSIM_ASSIGN_OR_RETURN, shaped like the
// ABSL_ macros that newer Abseil releases ship (Debian's 20220623 has none),
// so switching later is a rename.
#ifndef FLEETSIM_UTIL_STATUS_MACROS_H_
#define FLEETSIM_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define FLEETSIM_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status fleetsim_status_ = (expr);            \
    if (!fleetsim_status_.ok()) return fleetsim_status_; \
  } while (0)

#define FLEETSIM_STATUS_CONCAT_INNER_(a, b) a##b
#define FLEETSIM_STATUS_CONCAT_(a, b) FLEETSIM_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
//   FLEETSIM_ASSIGN_OR_RETURN(Chip chip, catalog.Find("h100"));
#define FLEETSIM_ASSIGN_OR_RETURN(lhs, rexpr) \
  FLEETSIM_ASSIGN_OR_RETURN_IMPL_(            \
      FLEETSIM_STATUS_CONCAT_(fleetsim_statusor_, __LINE__), lhs, rexpr)

#define FLEETSIM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return statusor.status();               \
  lhs = std::move(statusor).value()

#endif  // FLEETSIM_UTIL_STATUS_MACROS_H_

#include "planner/batch_attempts.h"

#include "absl/strings/str_cat.h"

namespace fleetsim::planner {

BatchAttempts::BatchAttempts(size_t jobs, int max_attempts)
    : max_attempts_(max_attempts),
      attempts_(jobs, 0),
      results_(jobs, absl::UnknownError("not run")) {
  for (size_t i = 0; i < jobs; ++i) queue_.push_back(i);
}

size_t BatchAttempts::Next() {
  size_t job = queue_.front();
  queue_.pop_front();
  ++attempts_[job];
  return job;
}

void BatchAttempts::Finish(size_t job,
                           absl::StatusOr<v1::SimulationResult> result) {
  if (result.status().code() == absl::StatusCode::kInternal &&
      attempts_[job] < max_attempts_) {
    queue_.push_back(job);
    return;
  }
  if (!result.ok() && attempts_[job] > 1) {
    result = absl::Status(result.status().code(),
                          absl::StrCat(result.status().message(), " (",
                                       attempts_[job], " attempts)"));
  }
  results_[job] = std::move(result);
}

}  // namespace fleetsim::planner

// File: planner/batch_attempts.h
//
// BatchAttempts: the bookkeeping every SimulationPool shares - which jobs
// of a batch still need a run, how often each has run, and the retry rule
// (a job that ended in Internal, a crashed child or a simulation that found
// itself inconsistent, runs once more before its error stands), so the
// local and the MPI pool treat a crash alike.
#ifndef FLEETSIM_PLANNER_BATCH_ATTEMPTS_H_
#define FLEETSIM_PLANNER_BATCH_ATTEMPTS_H_

#include <cstddef>
#include <deque>
#include <vector>

#include "planner/simulation_pool.h"

namespace fleetsim::planner {

class BatchAttempts final {
 public:
  BatchAttempts(size_t jobs, int max_attempts);

  bool has_next() const { return !queue_.empty(); }
  // The next job to run, counted as an attempt. REQUIRES: has_next().
  size_t Next();
  // Records a run's outcome: requeues a retryable one, else keeps it (an
  // error after several attempts says how many).
  void Finish(size_t job, absl::StatusOr<v1::SimulationResult> result);
  int attempts(size_t job) const { return attempts_[job]; }

  BatchResults TakeResults() { return std::move(results_); }

 private:
  int max_attempts_;
  std::deque<size_t> queue_;
  std::vector<int> attempts_;
  BatchResults results_;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_BATCH_ATTEMPTS_H_

// File: mpi/mpi_messages.h
//
// Protobuf messages over MPI point-to-point calls on MPI_COMM_WORLD (whose
// error handler InitMpi sets to return errors, so a failed call is a
// Status). Waiting sleeps between probes instead of spinning in MPI_Recv:
// a rank shares its core with the simulation it forked, and oversubscribed
// ranks share cores with each other.
#ifndef FLEETSIM_MPI_MPI_MESSAGES_H_
#define FLEETSIM_MPI_MPI_MESSAGES_H_

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace fleetsim::mpi {

// Rank 0 -> worker (WorkerAssignment) and worker -> rank 0 (WorkerReport).
inline constexpr int kAssignmentTag = 1;
inline constexpr int kReportTag = 2;

// Blocks until `rank` has matched the message (or it was buffered).
// Unavailable naming the rank when MPI fails.
absl::Status SendMessage(const google::protobuf::Message& message, int rank,
                         int tag);

// Receives a waiting message of `tag` from any rank into `message`, its
// sender in `*rank`. False when none is waiting; Unavailable when MPI
// fails, DataLoss when the bytes do not parse.
absl::StatusOr<bool> TryReceiveMessage(int tag,
                                       google::protobuf::Message* message,
                                       int* rank);

// Sleeps before the next probe: 50 us, doubling on each call up to 2 ms;
// Reset() after a message arrived.
class ProbeBackoff final {
 public:
  void Wait();
  void Reset() { sleep_us_ = kFirstUs; }

 private:
  static constexpr int kFirstUs = 50;
  static constexpr int kMaxUs = 2000;
  int sleep_us_ = kFirstUs;
};

}  // namespace fleetsim::mpi

#endif  // FLEETSIM_MPI_MPI_MESSAGES_H_

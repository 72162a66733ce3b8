#include "mpi/mpi_messages.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"

namespace fleetsim::mpi {
namespace {

absl::Status MpiError(int code, const std::string& what) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return absl::UnavailableError(
      absl::StrCat(what, ": ", std::string(text, length)));
}

}  // namespace

absl::Status SendMessage(const google::protobuf::Message& message, int rank,
                         int tag) {
  std::string bytes = message.SerializeAsString();
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a message of ", bytes.size(),
                     " bytes is over MPI's 2 GiB count limit"));
  }
  int code = MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE,
                      rank, tag, MPI_COMM_WORLD);
  if (code != MPI_SUCCESS)
    return MpiError(code, absl::StrCat("MPI send to rank ", rank));
  return absl::OkStatus();
}

absl::StatusOr<bool> TryReceiveMessage(int tag,
                                       google::protobuf::Message* message,
                                       int* rank) {
  int waiting = 0;
  MPI_Status status;
  int code = MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &waiting, &status);
  if (code != MPI_SUCCESS) return MpiError(code, "MPI probe");
  if (!waiting) return false;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  std::string bytes(static_cast<size_t>(count), '\0');
  code = MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, tag,
                  MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (code != MPI_SUCCESS) {
    return MpiError(code,
                    absl::StrCat("MPI receive from rank ", status.MPI_SOURCE));
  }
  *rank = status.MPI_SOURCE;
  if (!message->ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(
        "a ", message->GetTypeName(), " from rank ", *rank, " does not parse"));
  }
  return true;
}

void ProbeBackoff::Wait() {
  std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
  sleep_us_ = std::min(kMaxUs, 2 * sleep_us_);
}

}  // namespace fleetsim::mpi

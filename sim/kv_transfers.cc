#include "sim/kv_transfers.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "sim/platform.h"
#include "sim/run_guard.h"
#include "simgrid/simix.hpp"

namespace fleetsim::sim {
namespace {

namespace sg4 = simgrid::s4u;

}  // namespace

KvTransfers::KvTransfers(const FleetSpec& fleet, OnTransferred on_transferred)
    : fleet_(fleet), on_transferred_(std::move(on_transferred)) {
  // The signal is SimGrid's, global to the process: connected once, it
  // serves every run's KvTransfers through the Transfer each flow carries.
  static std::once_flag connected;
  std::call_once(connected, [] {
    sg4::Activity::on_completion_cb(&KvTransfers::OnActivityCompleted);
  });
}

KvTransfers::~KvTransfers() {
  // No flow outlives the engine's run; should one, it must not reach us.
  for (const auto& transfer : transfers_) {
    if (transfer->comm) transfer->comm->set_data(nullptr);
  }
}

double KvTransfers::TransferBytes(const LiveRequest& request,
                                  const PoolSpec& from,
                                  const PoolSpec& to) const {
  double bytes = from.TransferBytes(request.input_tokens);
  if (!fleet_.layerwise_kv_transfer) return bytes;
  double path_bytes_per_s =
      std::min(from.scale_out_bytes_per_s, to.scale_out_bytes_per_s);
  double prefill_s = request.prefill_done_s - request.first_scheduled_s;
  return std::max(bytes / fleet_.model.num_layers(),
                  bytes - path_bytes_per_s * prefill_s);
}

void KvTransfers::Start(Instance* from, Instance* to, LiveRequestPtr request) {
  const PoolSpec& from_pool = from->pool();
  const PoolSpec& to_pool = to->pool();
  const double bytes = TransferBytes(*request, from_pool, to_pool);
  ThisRunGuard().CheckTransfer(
      bytes,
      std::min(from_pool.scale_out_bytes_per_s, to_pool.scale_out_bytes_per_s),
      RouteLatencySeconds(from_pool, to_pool));
  if (free_.empty()) {
    // The records grow to the peak number of concurrent transfers.
    transfers_.push_back(std::make_unique<Transfer>());
    free_.push_back(transfers_.back().get());
  }
  Transfer* transfer = free_.back();
  free_.pop_back();
  transfer->owner = this;
  transfer->from = from;
  transfer->to = to;
  transfer->prefill_blocks = request->kv_blocks;
  transfer->bytes = bytes;
  transfer->start_s = sg4::Engine::get_clock();
  transfer->request = std::move(request);
  // One simcall: the flow is created and started by maestro, which makes it
  // maestro's activity, whose end SimGrid reports to OnActivityCompleted.
  simgrid::kernel::actor::simcall_answered([transfer] { Launch(transfer); });
}

void KvTransfers::Launch(Transfer* transfer) {
  const LiveRequest& request = *transfer->request;
  transfer->comm = sg4::Comm::sendto_async(
      transfer->from->HostFor(request), transfer->to->HostFor(request),
      static_cast<uint64_t>(transfer->bytes));
  transfer->comm->set_data(transfer);  // sendto_async started it
}

void KvTransfers::OnActivityCompleted(const sg4::Activity& activity) {
  auto* transfer = activity.get_data<Transfer>();
  if (transfer == nullptr ||
      activity.get_state() != sg4::Activity::State::FINISHED)
    return;  // not a KV transfer (nor ever a failed one: links never fail)
  transfer->owner->Finish(transfer);
}

void KvTransfers::Finish(Transfer* transfer) {
  free_.push_back(transfer);
  if (stopped_ || !ThisRunGuard().status().ok()) return;
  const double now = sg4::Engine::get_clock();
  LiveRequestPtr moving = std::move(transfer->request);
  moving->kv_transfer_s = now - transfer->start_s;
  if (!on_transferred_(KvTransferSpan{moving->id, transfer->from->index(),
                                      transfer->to->index(), transfer->start_s,
                                      now, transfer->bytes})) {
    return;
  }
  transfer->from->scheduler().ReleaseTransferred(moving.get(),
                                                 transfer->prefill_blocks);
  transfer->from->WakeFromKernel();
  moving->kv_blocks = 0;
  const double first_token =
      fleet_.ttft_at_prefill_completion ? moving->prefill_done_s : now;
  moving->first_token_s = first_token;
  moving->last_token_s = first_token;
  transfer->to->scheduler().AddTransferred(std::move(moving));
  transfer->to->WakeFromKernel();
}

}  // namespace fleetsim::sim

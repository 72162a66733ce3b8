#include "sim/kv_transfers.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/run_guard.h"

namespace fleetsim::sim {
namespace {

namespace sg4 = simgrid::s4u;

}  // namespace

KvTransfers::KvTransfers(const FleetSpec& fleet, sg4::Host* mover_host,
                         OnTransferred on_transferred)
    : fleet_(fleet),
      mover_host_(mover_host),
      on_transferred_(std::move(on_transferred)) {}

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
  double bytes = TransferBytes(*request, from->pool(), to->pool());
  Transfer transfer{from, to, request->kv_blocks, bytes, std::move(request)};
  if (idle_movers_.empty()) {
    // A new mover only when every existing one is busy: the pool grows to
    // the peak number of concurrent transfers and its actors are reused.
    movers_.push_back(std::make_unique<Mover>());
    Mover* mover = movers_.back().get();
    mover->job = std::move(transfer);
    sg4::ActorPtr actor =
        sg4::Actor::create(absl::StrCat("kv-mover/", movers_.size() - 1),
                           mover_host_, [this, mover] { MoverLoop(mover); });
    actor->daemonize();
    return;
  }
  Mover* mover = idle_movers_.back();
  idle_movers_.pop_back();
  mover->job = std::move(transfer);
  mover->wake->notify_all();
}

void KvTransfers::MoverLoop(Mover* mover) {
  std::unique_lock<sg4::Mutex> lock(*mover->mutex);
  while (true) {
    if (!mover->job.request) {
      idle_movers_.push_back(mover);
      mover->wake->wait(lock);
      continue;
    }
    Transfer job = std::move(mover->job);
    mover->job = Transfer();
    double start = sg4::Engine::get_clock();
    const PoolSpec& from = job.from->pool();
    const PoolSpec& to = job.to->pool();
    ThisRunGuard().CheckTransfer(
        job.bytes,
        std::min(from.scale_out_bytes_per_s, to.scale_out_bytes_per_s),
        from.scale_out_latency_s + to.scale_out_latency_s);
    sg4::Comm::sendto(job.from->HostFor(*job.request),
                      job.to->HostFor(*job.request),
                      static_cast<uint64_t>(job.bytes));
    double now = sg4::Engine::get_clock();
    LiveRequestPtr moving = std::move(job.request);
    moving->kv_transfer_s = now - start;
    on_transferred_(KvTransferSpan{moving->id, job.from->index(),
                                   job.to->index(), start, now, job.bytes});
    job.from->scheduler().ReleaseTransferred(moving.get(), job.prefill_blocks);
    job.from->Wake();
    moving->kv_blocks = 0;
    double first_token =
        fleet_.ttft_at_prefill_completion ? moving->prefill_done_s : now;
    moving->first_token_s = first_token;
    moving->last_token_s = first_token;
    job.to->scheduler().AddTransferred(std::move(moving));
    job.to->Wake();
  }
}

}  // namespace fleetsim::sim

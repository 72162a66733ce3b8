// File: sim/kv_transfers.h
//
// KvTransfers: moving a prefilled request's KV cache (and its SSM/CCA
// recurrent state, PoolSpec::TransferBytes) from its prefill instance to the
// decode instance that reserved room for it, as a real SimGrid flow over both
// machines' scale-out links (so concurrent transfers share bandwidth).
//
// No actor waits for a transfer: each flow is started in SimGrid's kernel
// (maestro), so SimGrid reports its end through Activity::on_completion
// there, and the transfer's end is handled in that callback: the prefill
// side's blocks are freed, the request joins the decode instance's batch,
// and both instances are woken. An actor per transfer (or a pool of mover
// actors, as before) cost about five simcalls and three context switches
// per request on top of the flow itself (docs/simulator.md, "Speed").
#ifndef FLEETSIM_SIM_KV_TRANSFERS_H_
#define FLEETSIM_SIM_KV_TRANSFERS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sim/fleet.h"
#include "sim/instance.h"
#include "sim/live_request.h"
#include "sim/run_observer.h"
#include "simgrid/s4u.hpp"

namespace fleetsim::sim {

class KvTransfers final {
 public:
  // Called (from SimGrid's kernel) when a transfer ended; returns false
  // when the run must stop (RunGuard::CountKernelEvent), and the transfer's
  // effects are then dropped.
  using OnTransferred = std::function<bool(const KvTransferSpan& span)>;

  // `fleet` outlives this.
  KvTransfers(const FleetSpec& fleet, OnTransferred on_transferred);
  ~KvTransfers();
  KvTransfers(const KvTransfers&) = delete;
  KvTransfers& operator=(const KvTransfers&) = delete;

  // Bytes that cross the links for `request`'s KV from `from`'s pool to
  // `to`'s. With layer-wise streaming (Splitwise, Patel et al., ISCA 2024,
  // arXiv:2311.18677) each layer's KV leaves as soon as the layer is done,
  // so only what the slower NIC could not move during the prefill, and at
  // least the last layer, remains after it. Approximation: the overlapped
  // part is assumed uncontended; the remainder is a real, contending flow.
  double TransferBytes(const LiveRequest& request, const PoolSpec& from,
                       const PoolSpec& to) const;

  // Moves `request`'s KV from `from` to `to` (which reserved room for it).
  // Called from an actor; ends that actor's turn (one simcall).
  void Start(Instance* from, Instance* to, LiveRequestPtr request);

  // Transfers that end from now on change nothing (the run stopped early:
  // its actors are gone, but SimGrid still finishes the flows in flight).
  void Stop() { stopped_ = true; }

 private:
  struct Transfer {
    KvTransfers* owner = nullptr;
    Instance* from = nullptr;
    Instance* to = nullptr;
    int64_t prefill_blocks = 0;
    double bytes = 0;
    double start_s = 0;
    LiveRequestPtr request;
    // The flow; kept past its end (released when the record is reused or
    // destroyed), since SimGrid still uses it after the completion callback.
    simgrid::s4u::CommPtr comm;
  };
  // In the kernel: starts `transfer`'s flow.
  static void Launch(Transfer* transfer);
  // In the kernel: SimGrid's completion callback, for every activity that
  // maestro started; ours carry their Transfer as data.
  static void OnActivityCompleted(const simgrid::s4u::Activity& activity);
  void Finish(Transfer* transfer);

  const FleetSpec& fleet_;
  OnTransferred on_transferred_;
  bool stopped_ = false;
  std::vector<std::unique_ptr<Transfer>> transfers_;  // every record
  std::vector<Transfer*> free_;                       // records not in use
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_KV_TRANSFERS_H_

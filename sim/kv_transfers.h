// File: sim/kv_transfers.h
//
// KvTransfers: moving a prefilled request's KV cache (and its SSM/CCA
// recurrent state, PoolSpec::TransferBytes) from its prefill instance to the
// decode instance that reserved room for it, as a real SimGrid flow over both
// machines' scale-out links (so concurrent transfers share bandwidth).
// Transfers run on a pool of reusable mover actors: creating an actor per
// transfer costs more than simulating the transfer. When one ends, the prefill
// side's blocks are freed, the request joins the decode instance's batch, and
// both instances are woken.
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
  // Called in the mover when a transfer ended.
  using OnTransferred = std::function<void(const KvTransferSpan& span)>;

  // `fleet` outlives this; movers run on `mover_host`.
  KvTransfers(const FleetSpec& fleet, simgrid::s4u::Host* mover_host,
              OnTransferred on_transferred);

  // Bytes that cross the links for `request`'s KV from `from`'s pool to
  // `to`'s. With layer-wise streaming (Splitwise, Patel et al., ISCA 2024,
  // arXiv:2311.18677) each layer's KV leaves as soon as the layer is done,
  // so only what the slower NIC could not move during the prefill, and at
  // least the last layer, remains after it. Approximation: the overlapped
  // part is assumed uncontended; the remainder is a real, contending flow.
  double TransferBytes(const LiveRequest& request, const PoolSpec& from,
                       const PoolSpec& to) const;

  // Moves `request`'s KV from `from` to `to` (which reserved room for it).
  // Called from an actor; may end that actor's turn (a SimGrid call).
  void Start(Instance* from, Instance* to, LiveRequestPtr request);

 private:
  struct Transfer {
    Instance* from = nullptr;
    Instance* to = nullptr;
    int64_t prefill_blocks = 0;
    double bytes = 0;
    LiveRequestPtr request;
  };
  struct Mover {
    Transfer job;
    simgrid::s4u::MutexPtr mutex = simgrid::s4u::Mutex::create();
    simgrid::s4u::ConditionVariablePtr wake =
        simgrid::s4u::ConditionVariable::create();
  };
  void MoverLoop(Mover* mover);

  const FleetSpec& fleet_;
  simgrid::s4u::Host* mover_host_;
  OnTransferred on_transferred_;
  std::vector<std::unique_ptr<Mover>> movers_;
  std::vector<Mover*> idle_movers_;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_KV_TRANSFERS_H_

"""fleetsim's Python client: its results and its gRPC service.

    import fleetsim
    summary = fleetsim.read_summary("out/summary.json")   # `fleetsim replay`
    with fleetsim.Client("localhost:50051") as client:    # `fleetsim serve`
        reply = client.simulate(request)
    # Both are fleetsim.v1.result_pb2.SimulationResult.
    print(fleetsim.latency_percentiles(summary) ==
          fleetsim.latency_percentiles(reply))

The messages (protobuf package fleetsim.v1) are generated from
proto/fleetsim/v1/*.proto by generate_stubs.py into fleetsim.v1
(fleetsim.v1.result_pb2, .planning_service_pb2, ...).
"""

from fleetsim.client import (Client, latency_percentiles, read_plan,
                             read_study, read_summary)

__all__ = ["Client", "latency_percentiles", "read_plan", "read_study",
           "read_summary"]

#!/usr/bin/python3
"""PlanningService soak: N clients x M minutes of mixed calls on loopback.

Starts `fleetsim serve` (--max-concurrent 4) on a free loopback port; N
client threads each loop, for M minutes, over a mix of calls:
  valid      Simulate of the 3-request toy trace (inline) or of the first
             50 requests of the Azure 2023 code trace (by data-dir path)
  invalid    Simulate with a bad field (unknown model, NaN rate, a path
             leaving the data folder, an inline trace over the limit)
  cancelled  a minute-long Simulate cancelled after 0.2-1 s
  deadline   the same with a 0.5 s deadline
  plan       a small Plan (2 machines, 2 jobs), now and then
  list       ListChips / ListModels
Every 5 s it samples the server's RSS (VmRSS of the serve process) and its
process count (the worker helper's children: jobs, and their simulations).
At the end: calls served, outcomes by kind and gRPC code, RSS and process
samples over time, and the processes left once the clients stop (must be 0).

  /usr/bin/python3 bench/service_soak.py [build-dir] [clients] [minutes]
Needs python3-grpcio and grpc_python_plugin (Debian), like the test client.
"""

import collections
import math
import os
import random
import subprocess
import sys
import threading
import time

import grpc

import grpc_stubs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
MINUTES = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
FLEETSIM = os.path.join(BUILD, "fleetsim")
DATA = os.path.join(ROOT, "data")

grpc_stubs.generate(ROOT)
from fleetsim.v1 import cluster_pb2  # noqa: E402
from fleetsim.v1 import plan_pb2  # noqa: E402
from fleetsim.v1 import planning_service_pb2 as pb  # noqa: E402
from fleetsim.v1 import planning_service_pb2_grpc as pb_grpc  # noqa: E402
from fleetsim.v1 import workload_pb2  # noqa: E402

with open(os.path.join(DATA, "traces", "splitwise_test_trace.csv"), "rb") as f:
    TOY_TRACE = f.read()


def one_machine():
    cluster = cluster_pb2.Cluster(name="one")
    pool = cluster.pools.add(name="colocated", machines=1, tp=1,
                             role=cluster_pb2.POOL_ROLE_COLOCATED)
    pool.machine.chip = "h100"
    pool.machine.chips_per_machine = 1
    return cluster


def simulate(**workload):
    request = pb.SimulateRequest(model="llama-2-7b")
    request.cluster.CopyFrom(one_machine())
    for key, value in workload.items():
        setattr(request.workload, key, value)
    return request


def valid_request(rng):
    if rng.random() < 0.5:
        request = simulate()
        request.trace_bytes = TOY_TRACE
        return request
    return simulate(trace_path="traces/azure_2023_code.csv", max_requests=50)


def invalid_request(rng):
    choice = rng.randrange(4)
    if choice == 0:
        request = simulate(trace_path="traces/azure_2023_code.csv")
        request.model = "no-such-model"
    elif choice == 1:
        request = simulate(trace_path="traces/azure_2023_code.csv",
                           arrival=workload_pb2.ARRIVAL_PROCESS_POISSON,
                           rate_per_s=math.nan, duration_s=10)
    elif choice == 2:
        request = simulate(trace_path="../../etc/passwd")
    else:
        request = simulate()
        request.trace_bytes = b"x" * (9 << 20)  # over the 8 MiB default
    return request


def long_request():
    return simulate(trace_path="traces/azure_2023_conv.csv",
                    arrival=workload_pb2.ARRIVAL_PROCESS_POISSON,
                    rate_per_s=8, duration_s=1e6)


def plan_request():
    request = plan_pb2.PlanRequest(model="llama-2-7b", chips=["h100"],
                                   budget_machines=2, jobs=2,
                                   slo_preset="relaxed")
    request.workload.trace_path = "traces/splitwise_test_trace.csv"
    request.workload.arrival = workload_pb2.ARRIVAL_PROCESS_POISSON
    request.workload.rate_per_s = 2
    request.workload.duration_s = 60
    return request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def descendants(pid):
    children = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children[int(fields[1])].append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def main():
    server = subprocess.Popen(
        [FLEETSIM, "serve", "--listen", "127.0.0.1:0", "--max-concurrent", "4",
         "--data-dir", DATA], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if "listening on" not in line:
        server.kill()
        sys.exit(f"fleetsim serve did not start: {line!r}")
    address = line.split("listening on ")[1].split()[0]
    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = pb_grpc.PlanningServiceStub(channel)

    outcomes = collections.Counter()  # (kind, code name)
    lock = threading.Lock()
    end = time.time() + MINUTES * 60

    def record(kind, code):
        with lock:
            outcomes[(kind, code.name)] += 1

    def client(seed):
        rng = random.Random(seed)
        while time.time() < end:
            roll = rng.random()
            try:
                if roll < 0.45:
                    kind = "valid"
                    stub.Simulate(valid_request(rng), timeout=120)
                elif roll < 0.70:
                    kind = "invalid"
                    stub.Simulate(invalid_request(rng), timeout=60)
                elif roll < 0.82:
                    kind = "cancelled"
                    future = stub.Simulate.future(long_request(), timeout=120)
                    time.sleep(rng.uniform(0.2, 1.0))
                    future.cancel()
                    future.result()  # FutureCancelledError once cancelled
                elif roll < 0.90:
                    kind = "deadline"
                    stub.Simulate(long_request(), timeout=0.5)
                elif roll < 0.95:
                    kind = "plan"
                    list(stub.Plan(plan_request(), timeout=300))
                else:
                    kind = "list"
                    stub.ListChips(pb.ListChipsRequest(), timeout=30)
                    stub.ListModels(pb.ListModelsRequest(), timeout=30)
                record(kind, grpc.StatusCode.OK)
            except grpc.FutureCancelledError:
                record(kind, grpc.StatusCode.CANCELLED)
            except grpc.RpcError as error:
                record(kind, error.code())

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    start = time.time()
    for thread in threads:
        thread.start()
    samples = []
    while any(thread.is_alive() for thread in threads):
        samples.append((time.time() - start, rss_kib(server.pid),
                        len(descendants(server.pid)) - 1))  # minus the helper
        time.sleep(5)
    for thread in threads:
        thread.join()
    time.sleep(2)  # handlers notice the last cancels
    left = len(descendants(server.pid)) - 1
    rss_end = rss_kib(server.pid)
    server.terminate()
    server.wait(timeout=30)

    served = sum(outcomes.values())
    wall = time.time() - start
    print(f"fleetsim serve soak: {CLIENTS} clients x {MINUTES:g} min "
          f"({wall:.0f} s): {served} calls, {served / wall:.1f}/s")
    print("outcomes (kind, code: calls):")
    for (kind, code), count in sorted(outcomes.items()):
        print(f"  {kind:10s} {code:20s} {count:6d}")
    print("time_s  rss_mib  jobs+simulations")
    for t, rss, procs in samples:
        print(f"{t:6.0f}  {rss / 1024:7.1f}  {procs:4d}")
    print(f"after the clients stopped: rss {rss_end / 1024:.1f} MiB, "
          f"{left} worker processes left; server exit {server.returncode}")
    return 0 if left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""PlanningService speed: Simulate requests per second and overhead vs the CLI.

Starts `fleetsim serve` on a free loopback port and measures, for two small
scenarios (one H100 at TP1 serving llama-2-7b):
  toy   the 3-request SplitwiseSim toy trace, sent inline (144 bytes)
  s50   the first 50 requests of the Azure 2023 code trace, by data-dir path
rows:
  cli local          `fleetsim replay` (a process per run: exec, catalogs,
                     simulation), wall per run
  cli --server       `fleetsim replay --server` (a process per run: exec,
                     request, RPC), wall per run
  grpc 1 client      Simulate latency from one Python client, back to back
  grpc N clients     requests/s with N concurrent Python clients
'sim' is the simulation's own wall time (SimulationResult.wall_s);
'overhead' is latency minus sim.

  /usr/bin/python3 bench/service_bench.py [build-dir] [seconds-per-row]
Needs python3-grpcio and grpc_python_plugin (Debian), like the test client.
"""

import concurrent.futures
import os
import statistics
import subprocess
import sys
import threading
import time

import grpc

import grpc_stubs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
FLEETSIM = os.path.join(BUILD, "fleetsim")
DATA = os.path.join(ROOT, "data")

tmp = grpc_stubs.generate(ROOT)
from fleetsim.v1 import cluster_pb2  # noqa: E402
from fleetsim.v1 import planning_service_pb2 as pb  # noqa: E402
from fleetsim.v1 import planning_service_pb2_grpc as pb_grpc  # noqa: E402

CLUSTER = cluster_pb2.Cluster(name="one")
_pool = CLUSTER.pools.add(name="colocated",
                          role=cluster_pb2.POOL_ROLE_COLOCATED, machines=1, tp=1)
_pool.machine.chip = "h100"
_pool.machine.chips_per_machine = 1
cluster_file = os.path.join(tmp, "one.txtpb")
with open(cluster_file, "w") as f:
    f.write(str(CLUSTER))

SCENARIOS = {
    "toy": ("traces/splitwise_test_trace.csv", 0, True),
    "s50": ("traces/azure_2023_code.csv", 50, False),
}


def request_for(name):
    path, max_requests, inline = SCENARIOS[name]
    r = pb.SimulateRequest(model="llama-2-7b")
    r.cluster.CopyFrom(CLUSTER)
    if inline:
        with open(os.path.join(DATA, path), "rb") as f:
            r.trace_bytes = f.read()
    else:
        r.workload.trace_path = path
    r.workload.max_requests = max_requests
    return r


def cli_args(name):
    path, max_requests, _ = SCENARIOS[name]
    return ["replay", "--cluster", cluster_file, "--model", "llama-2-7b",
            "--trace", os.path.join(DATA, path), "--max-requests",
            str(max_requests), "--data-dir", DATA]


def time_cli(args):
    latencies = []
    end = time.time() + SECONDS
    while time.time() < end or len(latencies) < 5:
        start = time.perf_counter()
        subprocess.run([FLEETSIM] + args, check=True, capture_output=True)
        latencies.append(time.perf_counter() - start)
    return latencies


def time_grpc(stub, request, clients):
    latencies, sims = [], []
    lock = threading.Lock()
    end = time.time() + SECONDS

    def client():
        while time.time() < end:
            start = time.perf_counter()
            result = stub.Simulate(request, timeout=60).result
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                sims.append(result.wall_s)

    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for f in [pool.submit(client) for _ in range(clients)]:
            f.result()
    return latencies, sims, time.perf_counter() - began


def row(label, scenario, latencies, sims=None, wall=None):
    median = statistics.median(latencies) * 1e3
    p90 = sorted(latencies)[int(0.9 * (len(latencies) - 1))] * 1e3
    rate = len(latencies) / wall if wall else 1 / statistics.mean(latencies)
    sim = statistics.median(sims) * 1e3 if sims else float("nan")
    overhead = median - sim if sims else float("nan")
    print(f"{label:<18} {scenario:<5} {len(latencies):>6} {median:>9.2f} "
          f"{p90:>9.2f} {sim:>8.2f} {overhead:>9.2f} {rate:>9.1f}")


def main():
    server = subprocess.Popen(
        [FLEETSIM, "serve", "--listen", "127.0.0.1:0", "--data-dir", DATA,
         "--max-concurrent", "64"], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    address = line.split("listening on ")[1].split()[0]
    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=10)
    stub = pb_grpc.PlanningServiceStub(channel)
    cores = os.cpu_count()
    print(f"fleetsim serve at {address}; {cores} cores; {SECONDS:g} s per row")
    print(f"{'path':<18} {'case':<5} {'calls':>6} {'p50 ms':>9} {'p90 ms':>9} "
          f"{'sim ms':>8} {'overhd ms':>9} {'req/s':>9}")
    try:
        for name in SCENARIOS:
            row("cli local", name, time_cli(cli_args(name)))
            row("cli --server", name,
                time_cli(cli_args(name) + ["--server", address]))
            request = request_for(name)
            stub.Simulate(request, timeout=60)  # warm the channel
            for clients in (1, 2, 4, 8):
                latencies, sims, wall = time_grpc(stub, request, clients)
                row(f"grpc {clients} client{'s' if clients > 1 else ''}",
                    name, latencies, sims, wall)
    finally:
        channel.close()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

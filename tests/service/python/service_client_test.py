#!/usr/bin/python3
"""An independent client for `fleetsim serve`: Debian's python3-grpcio and
fleetsim's Python client package (clients/python).

Generates the package's stubs from proto/fleetsim/v1/ at test time (its
generate_stubs.py: Debian's protoc and grpc_python_plugin), starts `fleetsim
serve` on a free loopback port and checks Simulate, Plan, the catalogs,
health, the concurrency limit, cancellation (no worker process left), path
confinement, and that the package reads a summary.json and a Simulate reply
with the same code.

Run by ctest as:
  /usr/bin/python3 service_client_test.py --fleetsim BIN --source SRC
Exit code 77 (ctest SKIP) when python3-grpcio or the plugin is missing.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
SKIP = 77

try:
    import grpc
    from google.protobuf import json_format
except ImportError:
    print("python3-grpcio is not installed; skipping", file=sys.stderr)
    sys.exit(SKIP)

PLUGIN = "/usr/bin/grpc_python_plugin"


def children_of(pid):
    """Live processes whose parent is `pid`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                line = stat.read()
        except OSError:
            continue
        fields = line[line.rfind(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def wait_until(predicate, timeout_s=60.0):
    """Waits for an event; timeout_s bounds a loaded machine, not a timing."""
    end = time.time() + timeout_s
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class ServiceClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fleetsim_pyclient_")
        stubs = os.path.join(cls.tmp, "stubs")
        os.makedirs(stubs)
        sys.path.insert(0, os.path.join(ARGS.source, "clients", "python"))
        sys.dont_write_bytecode = True  # nothing written into the source tree
        import generate_stubs
        sys.dont_write_bytecode = False
        sys.path.pop(0)
        generate_stubs.generate(os.path.join(ARGS.source, "proto"), stubs,
                                plugin=PLUGIN)
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(
            ["protoc", "-I", here, f"--python_out={stubs}",
             f"--grpc_python_out={stubs}",
             f"--plugin=protoc-gen-grpc_python={PLUGIN}", "health.proto"],
            check=True)
        sys.path.insert(0, stubs)
        global fleetsim, pb, pb_grpc, plan_pb, cluster_pb, workload_pb
        global health_pb, health_grpc
        import fleetsim
        from fleetsim.v1 import planning_service_pb2 as pb
        from fleetsim.v1 import planning_service_pb2_grpc as pb_grpc
        from fleetsim.v1 import plan_pb2 as plan_pb
        from fleetsim.v1 import cluster_pb2 as cluster_pb
        from fleetsim.v1 import workload_pb2 as workload_pb
        import health_pb2 as health_pb
        import health_pb2_grpc as health_grpc

        cls.data = os.path.join(ARGS.source, "data")
        cls.server = subprocess.Popen(
            [ARGS.fleetsim, "serve", "--listen", "127.0.0.1:0",
             "--max-concurrent", "4", "--data-dir", cls.data],
            stdout=subprocess.PIPE, text=True)
        line = cls.server.stdout.readline()
        if "listening on" not in line:
            cls.server.kill()
            raise RuntimeError(f"fleetsim serve did not start: {line!r}")
        cls.address = line.split("listening on ")[1].split()[0]
        cls.channel = grpc.insecure_channel(cls.address)
        grpc.channel_ready_future(cls.channel).result(timeout=10)
        cls.stub = pb_grpc.PlanningServiceStub(cls.channel)
        cls.health = health_grpc.HealthStub(cls.channel)
        helpers = children_of(cls.server.pid)
        assert len(helpers) == 1, helpers
        cls.helper = helpers[0]

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.terminate()
        try:
            cls.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cls.server.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- requests -------------------------------------------------------
    def one_machine(self):
        cluster = cluster_pb.Cluster(name="one")
        pool = cluster.pools.add(name="colocated",
                                 role=cluster_pb.POOL_ROLE_COLOCATED,
                                 machines=1, tp=1)
        pool.machine.chip = "h100"
        pool.machine.chips_per_machine = 1
        # Azure prompts pass Llama-2's 4,096 tokens: served, and counted.
        cluster.context_limit = cluster_pb.CONTEXT_LIMIT_ALLOW
        return cluster

    def small_request(self):
        with open(os.path.join(self.data, "traces",
                               "azure_2023_code.csv"), "rb") as trace:
            trace_bytes = trace.read()
        request = pb.SimulateRequest(model="llama-2-7b",
                                     trace_bytes=trace_bytes)
        request.cluster.CopyFrom(self.one_machine())
        request.workload.max_requests = 50
        return request

    def long_request(self):
        request = pb.SimulateRequest(model="llama-2-7b")
        request.cluster.CopyFrom(self.one_machine())
        request.workload.trace_path = "traces/azure_2023_conv.csv"
        request.workload.arrival = workload_pb.ARRIVAL_PROCESS_POISSON
        request.workload.rate_per_s = 8
        request.workload.duration_s = 1e6  # about a minute of wall time
        return request

    def assert_serving(self):
        response = self.health.Check(health_pb.HealthCheckRequest(), timeout=5)
        self.assertEqual(response.status,
                         health_pb.HealthCheckResponse.SERVING)

    def assert_no_workers(self):
        self.assertTrue(wait_until(lambda: not children_of(self.helper)),
                        f"worker processes left: {children_of(self.helper)}")

    def setUp(self):
        # A worker of the previous test may still be exiting (slow under
        # ASan); a test that looks for its own worker must not find that one.
        self.assert_no_workers()

    # ---- tests ------------------------------------------------------------
    def test_health_is_serving(self):
        self.assert_serving()
        response = self.health.Check(
            health_pb.HealthCheckRequest(service="fleetsim.v1.PlanningService"),
            timeout=5)
        self.assertEqual(response.status,
                         health_pb.HealthCheckResponse.SERVING)

    def test_catalogs(self):
        chips = [c.name for c in self.stub.ListChips(pb.ListChipsRequest(),
                                                     timeout=10).chips]
        self.assertIn("h100", chips)
        self.assertIn("spad_prefill", chips)
        models = [m.name for m in self.stub.ListModels(
            pb.ListModelsRequest(), timeout=10).models]
        self.assertIn("bloom-176b", models)

    def test_simulate_matches_the_cli(self):
        with fleetsim.Client(self.address) as client:
            result = client.simulate(self.small_request(), timeout_s=60)
        self.assertEqual(result.requests, 50)
        self.assertEqual(result.completed, 50)
        # The same run through `fleetsim replay`.
        cluster = os.path.join(self.tmp, "one.txtpb")
        with open(cluster, "w") as out:
            out.write(str(self.one_machine()))
        out_dir = os.path.join(self.tmp, "replay")
        subprocess.run(
            [ARGS.fleetsim, "replay", "--cluster", cluster, "--model",
             "llama-2-7b", "--trace",
             os.path.join(self.data, "traces", "azure_2023_code.csv"),
             "--max-requests", "50", "--out", out_dir, "--data-dir",
             self.data], check=True, capture_output=True)
        # summary.json is the reply's message in protobuf's JSON: the same
        # code reads both, and every number comes back to the same bits.
        cli = fleetsim.read_summary(os.path.join(out_dir, "summary.json"))
        self.assertIs(type(cli), type(result))
        self.assertEqual(cli.schema, "fleetsim.v1.SimulationResult")
        self.assertEqual(fleetsim.latency_percentiles(cli),
                         fleetsim.latency_percentiles(result))
        self.assertGreater(
            fleetsim.latency_percentiles(cli)["ttft_s"]["p99"], 0)
        self.assertEqual(cli.completed, result.completed)
        self.assertEqual(cli.events, result.events)
        for metric in ("ttft_s", "tbt_s", "e2e_s", "queue_s"):
            self.assertEqual(getattr(cli, metric), getattr(result, metric),
                             msg=metric)

    def test_client_package_lives_under_the_fleetsim_namespace(self):
        # No top-level `proto` package to clash with another project's; the
        # descriptors carry the server's file names (its reflection's).
        self.assertNotIn("proto", sys.modules)
        self.assertEqual(pb.DESCRIPTOR.name,
                         "fleetsim/v1/planning_service.proto")
        with fleetsim.Client(self.address) as client:
            self.assertIn("h100", [c.name for c in client.list_chips(10)])
            self.assertIn("llama-2-7b",
                          [m.name for m in client.list_models(10)])

    def test_client_package_refuses_another_schema(self):
        path = os.path.join(self.tmp, "old_summary.json")
        with open(path, "w") as out:
            out.write('{"schema": "fleetsim.v2.SimulationResult"}')
        with self.assertRaisesRegex(ValueError, "v2"):
            fleetsim.read_summary(path)
        with open(path, "w") as out:
            out.write('{"no_such_field": 1}')
        with self.assertRaises(json_format.ParseError):
            fleetsim.read_summary(path)

    def test_replay_server_flag_prints_the_same_summary(self):
        cluster = os.path.join(self.tmp, "one_cli.txtpb")
        with open(cluster, "w") as out:
            out.write(str(self.one_machine()))
        command = [ARGS.fleetsim, "replay", "--cluster", cluster, "--model",
                   "llama-2-7b", "--trace",
                   os.path.join(self.data, "traces", "azure_2023_code.csv"),
                   "--max-requests", "40", "--slo", "normal",
                   "--data-dir", self.data]
        local = subprocess.run(command, check=True, capture_output=True,
                               text=True).stdout
        remote = subprocess.run(command + ["--server", self.address],
                                check=True, capture_output=True,
                                text=True).stdout
        self.assertEqual(local, remote)

    def test_plan_server_flag_prints_the_same_plan(self):
        command = [ARGS.fleetsim, "plan", "--model", "llama-2-7b", "--trace",
                   os.path.join(self.data, "traces", "azure_2023_code.csv"),
                   "--rate", "2", "--duration", "60", "--slo", "relaxed",
                   "--chips", "h100", "--budget-machines", "2", "--jobs", "2",
                   "--data-dir", self.data]

        def plan(extra):
            out = subprocess.run(command + extra, check=True,
                                 capture_output=True, text=True).stdout
            # The last line reports the search's wall time.
            return [line for line in out.splitlines()
                    if " simulations in " not in line]
        local = plan([])
        self.assertIn("cheapest", "\n".join(local))
        self.assertEqual(local, plan(["--server", self.address]))

    def test_simulate_with_a_path_in_the_data_dir(self):
        request = self.small_request()
        request.ClearField("trace_bytes")
        request.workload.trace_path = "traces/azure_2023_code.csv"
        self.assertEqual(
            self.stub.Simulate(request, timeout=60).result.completed, 50)

    def test_path_traversal_is_refused(self):
        for path in ("../../../../etc/passwd", "/etc/passwd",
                     "traces/../../CMakeLists.txt"):
            request = self.small_request()
            request.ClearField("trace_bytes")
            request.workload.trace_path = path
            with self.assertRaises(grpc.RpcError) as error:
                self.stub.Simulate(request, timeout=10)
            self.assertEqual(error.exception.code(),
                             grpc.StatusCode.PERMISSION_DENIED, path)
            self.assertIn("workload.trace_path", error.exception.details())
        plan = plan_pb.PlanRequest(model="llama-2-7b")
        plan.workload.trace_path = "../../etc/shadow"
        with self.assertRaises(grpc.RpcError) as error:
            list(self.stub.Plan(plan, timeout=10))
        self.assertEqual(error.exception.code(),
                         grpc.StatusCode.PERMISSION_DENIED)

    def test_bad_fields_name_the_field(self):
        request = self.small_request()
        request.workload.rate_per_s = -5
        with self.assertRaises(grpc.RpcError) as error:
            self.stub.Simulate(request, timeout=10)
        self.assertEqual(error.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("rate_per_s", error.exception.details())
        request = self.small_request()
        request.ClearField("cluster")
        with self.assertRaises(grpc.RpcError) as error:
            self.stub.Simulate(request, timeout=10)
        self.assertEqual(error.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("cluster", error.exception.details())
        self.assert_serving()

    def test_calls_beyond_the_limit_of_4_are_turned_away(self):
        # Four calls hold every slot (their workers seen running), so a
        # fifth must be refused whatever the machine's speed.
        futures = [self.stub.Simulate.future(self.long_request(), timeout=300)
                   for _ in range(4)]
        self.assertTrue(wait_until(lambda: len(children_of(self.helper)) == 4),
                        "four workers never ran")
        with self.assertRaises(grpc.RpcError) as error:
            self.stub.Simulate(self.small_request(), timeout=60)
        self.assertEqual(error.exception.code(),
                         grpc.StatusCode.RESOURCE_EXHAUSTED)
        for future in futures:
            future.cancel()
        self.assert_no_workers()
        self.assert_serving()
        # The slots come back once the handlers have noticed the cancels.
        def small_call_runs():
            try:
                return self.stub.Simulate(
                    self.small_request(), timeout=60).result.completed == 50
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise
                return False
        self.assertTrue(wait_until(small_call_runs))

    def test_cancelling_a_call_kills_its_worker(self):
        future = self.stub.Simulate.future(self.long_request(), timeout=120)
        workers = []
        def worker_started():
            workers[:] = children_of(self.helper)
            return bool(workers)
        self.assertTrue(wait_until(worker_started), "the worker never started")
        worker = workers[0]
        future.cancel()
        self.assert_no_workers()
        self.assertFalse(os.path.exists(f"/proc/{worker}/stat") and
                         worker in children_of(self.helper))
        self.assert_serving()

    def test_an_expired_deadline_kills_the_worker(self):
        # The minute-long run ends by its 2 s deadline (the status says so),
        # and its worker with it.
        with self.assertRaises(grpc.RpcError) as error:
            self.stub.Simulate(self.long_request(), timeout=2)
        self.assertEqual(error.exception.code(),
                         grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assert_no_workers()

    def test_plan_streams_progress_then_the_result(self):
        request = plan_pb.PlanRequest(model="llama-2-7b", chips=["h100"],
                                      budget_machines=2, jobs=2)
        request.workload.trace_path = "traces/azure_2023_code.csv"
        request.workload.arrival = workload_pb.ARRIVAL_PROCESS_POISSON
        request.workload.rate_per_s = 2
        request.workload.duration_s = 60
        request.slo_preset = "relaxed"
        try:
            events = list(self.stub.Plan(request, timeout=300))
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                self.skipTest("the planner is not built into this server yet")
            raise
        self.assertGreaterEqual(len(events), 2)  # progress, then the result
        self.assertEqual(events[-1].WhichOneof("event"), "result")
        for event in events[:-1]:
            self.assertEqual(event.WhichOneof("event"), "progress")
        result = events[-1].result
        self.assertGreater(result.simulations, 0)
        self.assertTrue(result.feasible or result.explanation)
        if result.feasible:
            self.assertGreater(len(result.cheapest.pools), 0)
        self.assert_no_workers()

    def test_plan_with_inline_trace_bytes(self):
        """Plan with the trace inline gives the plan of its data-dir path."""
        def plan(trace_bytes=b"", trace_path=""):
            request = plan_pb.PlanRequest(model="llama-2-7b", chips=["h100"],
                                          budget_machines=2, jobs=2,
                                          slo_preset="relaxed",
                                          trace_bytes=trace_bytes)
            request.workload.trace_path = trace_path
            request.workload.arrival = workload_pb.ARRIVAL_PROCESS_POISSON
            request.workload.rate_per_s = 2
            request.workload.duration_s = 60
            request.workload.seed = 3
            events = list(self.stub.Plan(request, timeout=300))
            self.assertEqual(events[-1].WhichOneof("event"), "result")
            result = events[-1].result
            return [(fleet.system, fleet.feasible, fleet.cost,
                     fleet.result.completed, fleet.result.ttft_s.p50)
                    for fleet in result.fleets], result
        relative = os.path.join("traces", "splitwise_test_trace.csv")
        with open(os.path.join(self.data, relative), "rb") as trace:
            inline, result = plan(trace_bytes=trace.read())
        self.assertTrue(result.feasible, result.explanation)
        self.assertEqual(inline, plan(trace_path=relative)[0])
        self.assert_no_workers()

    def test_cancelling_mid_plan_leaves_no_worker(self):
        request = plan_pb.PlanRequest(model="llama-2-70b",
                                      chips=["h100", "a100"], jobs=2)
        request.workload.trace_path = "traces/azure_2023_conv.csv"
        request.workload.arrival = workload_pb.ARRIVAL_PROCESS_POISSON
        request.workload.rate_per_s = 40
        request.workload.duration_s = 600
        request.slo_preset = "normal"
        call = self.stub.Plan(request, timeout=300)

        def simulating():  # the plan job has simulations of its own
            return any(children_of(job) for job in children_of(self.helper))
        wait_until(lambda: simulating() or call.done(), timeout_s=30)
        if call.done():
            if call.code() == grpc.StatusCode.UNIMPLEMENTED:
                self.skipTest("the planner is not built into this server yet")
            self.fail(f"Plan ended before it could be cancelled: {call.code()}")
        self.assertTrue(simulating())
        call.cancel()
        self.assert_no_workers()
        self.assert_serving()


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--fleetsim", required=True)
    parser.add_argument("--source", required=True)
    ARGS, rest = parser.parse_known_args()
    if not os.path.exists(PLUGIN) or shutil.which("protoc") is None:
        print(f"{PLUGIN} or protoc missing; skipping", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()

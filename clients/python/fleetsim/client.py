"""Reads fleetsim's result files and calls its gRPC service.

summary.json (`fleetsim replay`) and the Simulate reply's result are one
message, fleetsim.v1.SimulationResult, printed by protobuf's JSON printer;
plan.json and Plan's result are PlanResult; study.json is StudyResult. The
read_* functions parse a file back into its message (unknown fields and a
different schema are errors), and Client returns the replies' messages, so
the same code reads both.
"""

import grpc
from google.protobuf import json_format

from fleetsim.v1 import plan_pb2
from fleetsim.v1 import planning_service_pb2
from fleetsim.v1 import planning_service_pb2_grpc
from fleetsim.v1 import result_pb2
from fleetsim.v1 import study_pb2

# The schema each file names: its message's full name ("fleetsim.v1.
# SimulationResult"), as cli/simulation_setup.h and study/study_output.h
# write it.
SUMMARY_SCHEMA = result_pb2.SimulationResult.DESCRIPTOR.full_name
PLAN_SCHEMA = plan_pb2.PlanResult.DESCRIPTOR.full_name
STUDY_SCHEMA = study_pb2.StudyResult.DESCRIPTOR.full_name

LATENCY_METRICS = ("ttft_s", "tbt_s", "tpot_s", "e2e_s", "queue_s")


class SchemaError(ValueError):
    """A result file of another kind or schema version."""


def _read(path, message, schema):
    with open(path, encoding="utf-8") as file:
        json_format.Parse(file.read(), message)
    if message.schema != schema:
        raise SchemaError(
            f"{path}: schema {message.schema!r}, expected {schema!r}")
    return message


def read_summary(path):
    """A replay's summary.json as a SimulationResult."""
    return _read(path, result_pb2.SimulationResult(), SUMMARY_SCHEMA)


def read_plan(path):
    """A plan's plan.json as a PlanResult."""
    return _read(path, plan_pb2.PlanResult(), PLAN_SCHEMA)


def read_study(path):
    """A study's study.json as a StudyResult."""
    return _read(path, study_pb2.StudyResult(), STUDY_SCHEMA)


def latency_percentiles(result):
    """{metric: {"p50": s, "p90": s, "p99": s}} of a SimulationResult, for
    the latency metrics it reports (seconds)."""
    return {
        metric: {p: getattr(getattr(result, metric), p)
                 for p in ("p50", "p90", "p99")}
        for metric in LATENCY_METRICS
    }


class Client:
    """A connection to `fleetsim serve` (its PlanningService,
    proto/fleetsim/v1/planning_service.proto).

    `address` is host:port; the channel is insecure, as the server listens
    without TLS. Errors are grpc.RpcError with the server's status (e.g.
    INVALID_ARGUMENT naming the bad field, RESOURCE_EXHAUSTED when every
    slot is taken)."""

    def __init__(self, address):
        self._channel = grpc.insecure_channel(address)
        self._stub = planning_service_pb2_grpc.PlanningServiceStub(
            self._channel)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._channel.close()

    def wait_ready(self, timeout_s):
        """Blocks until the server answers, at most timeout_s."""
        grpc.channel_ready_future(self._channel).result(timeout=timeout_s)

    def simulate(self, request, timeout_s=None):
        """One replay (a SimulateRequest); returns the reply's
        SimulationResult, the message read_summary returns."""
        return self._stub.Simulate(request, timeout=timeout_s).result

    def plan(self, request, timeout_s=None, on_progress=None):
        """Plans a fleet (a PlanRequest); returns the PlanResult, calling
        on_progress(PlanProgress) for each progress message before it."""
        for event in self._stub.Plan(request, timeout=timeout_s):
            if event.HasField("result"):
                return event.result
            if on_progress is not None:
                on_progress(event.progress)
        raise RuntimeError("Plan stream ended without a result")

    def list_chips(self, timeout_s=None):
        """The server's chip catalog, sorted by name (Chip messages)."""
        return list(self._stub.ListChips(
            planning_service_pb2.ListChipsRequest(), timeout=timeout_s).chips)

    def list_models(self, timeout_s=None):
        """The server's model catalog, sorted by name (Model messages)."""
        return list(self._stub.ListModels(
            planning_service_pb2.ListModelsRequest(),
            timeout=timeout_s).models)

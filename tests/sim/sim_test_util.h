// File: tests/sim/sim_test_util.h
//
// Helpers shared by the sim/ unit tests: a latency model simple enough to
// predict by hand, and requests built the way the simulator builds them.
#ifndef FLEETSIM_TESTS_SIM_SIM_TEST_UTIL_H_
#define FLEETSIM_TESTS_SIM_SIM_TEST_UTIL_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "fleetsim/v1/workload.pb.h"
#include "gtest/gtest.h"
#include "hardware/latency_model.h"
#include "sim/catalogs.h"
#include "sim/fleet.h"
#include "sim/live_request.h"
#include "workloads/request.h"

namespace fleetsim::testutil {

// The shipped catalogs (data/), loaded once per test process.
inline std::shared_ptr<const sim::Catalogs> ShippedCatalogs() {
  static const auto* catalogs = [] {
    auto loaded =
        sim::Catalogs::Load(std::string(FLEETSIM_SOURCE_DIR) + "/data");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new std::shared_ptr<const sim::Catalogs>(loaded.ok() ? *loaded
                                                                : nullptr);
  }();
  return *catalogs;
}

// Affine latency: 10 ms + 10 us per prompt token + 100 us per decoding
// request + 0.1 us per context token decoded, so tests check the
// simulator's bookkeeping rather than the cost model.
class AffineLatency final : public hardware::LatencyModel {
 public:
  double IterationSeconds(const hardware::BatchShape& b) const override {
    return 0.010 + 1e-5 * static_cast<double>(b.prefill_tokens) +
           1e-4 * b.decode_requests +
           1e-7 * static_cast<double>(b.decode_context_tokens);
  }
  hardware::IterationBreakdown Explain(
      const hardware::BatchShape& b) const override {
    return {IterationSeconds(b), {}};
  }
};

// Request `id` with `input` prompt and `output` generated tokens.
inline sim::LiveRequestPtr Req(int64_t id, int32_t input, int32_t output,
                               double arrival = 0) {
  workloads::Request r;
  r.id = id;
  r.arrival_s = arrival;
  r.input_tokens = input;
  r.output_tokens = output;
  return sim::MakeLiveRequest(r);
}

// A pool of one machine holding one vLLM instance with `kv_blocks` KV
// blocks of 16 tokens, batches of up to 64 requests and 8,192 tokens, and a
// 1 GB/s NIC with 5 us of latency.
inline sim::PoolSpec TestPool(v1::PoolRole role, int64_t kv_blocks = 1000) {
  sim::PoolSpec pool;
  pool.name = sim::PoolRoleName(role);
  pool.role = role;
  pool.policy = v1::BATCHING_POLICY_VLLM;
  pool.machines = 1;
  pool.tp = 1;
  pool.pp = 1;
  pool.instances_per_machine = 1;
  pool.max_batch_size = 64;
  pool.max_batch_tokens = 8192;
  pool.kv_block_tokens = 16;
  pool.kv_capacity_blocks = kv_blocks;
  pool.scale_out_bytes_per_s = 1e9;
  pool.scale_out_latency_s = 5e-6;
  return pool;
}

// A trace of `requests` requests of `prompt` + `output` tokens, all
// arriving at `arrival_s`, written to a temporary CSV whose name carries
// `tag`, this process and the shape (so concurrent tests never share one);
// the workload replays it with `seed`.
inline v1::Workload BurstWorkload(const std::string& tag, int requests,
                                  int prompt, int output, double arrival_s,
                                  uint64_t seed = 0) {
  std::ostringstream path;
  path << ::testing::TempDir() << "/" << getpid() << "_" << tag << requests
       << "_" << prompt << "_" << output << ".csv";
  std::ofstream out(path.str());
  out << "arrived_at,num_prefill_tokens,num_decode_tokens\n";
  for (int i = 0; i < requests; ++i)
    out << arrival_s << "," << prompt << "," << output << "\n";
  v1::Workload workload;
  workload.set_trace_path(path.str());
  workload.set_seed(seed);
  return workload;
}

// The replay tests' cluster in text format: one colocated TP1 pool on one
// H100 (a one-chip machine), named "one-h100"; `pool_fields` go inside the
// pool, `cluster_fields` after it (a mechanism's settings).
inline std::string OneH100ClusterText(const std::string& cluster_fields = "",
                                      const std::string& pool_fields = "") {
  return R"pb(name: "one-h100"
              pools { role: POOL_ROLE_COLOCATED
                      machine { chip: "h100" chips_per_machine: 1 }
                      machines: 1
                      tp: 1
         )pb" +
         pool_fields + "}\n" + cluster_fields;
}

// A diffusion LM's serving: a 64-token canvas in blocks of 32, in a
// model of 4,096 tokens of context.
inline sim::DiffusionServingSpec TestDiffusionSpec(v1::DiffusionCache cache,
                                                   double tokens_per_step) {
  sim::DiffusionServingSpec spec;
  spec.canvas_tokens = 64;
  spec.block_tokens = 32;
  spec.cache = cache;
  spec.tokens_per_step = tokens_per_step;
  spec.max_sequence_tokens = 4096;
  return spec;
}

// Named numbers a test observed in a child process.
using Observations = std::map<std::string, double>;

// Runs `body` in a forked child and returns what it observed. SimGrid
// allows one engine per process, so tests that start one run it here and
// make their assertions in the parent. A child that crashes or exits
// non-zero fails the test and yields no observations.
inline Observations RunInChild(const std::function<Observations()>& body) {
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string text;
    for (const auto& [name, value] : body()) {
      char line[256];
      std::snprintf(line, sizeof(line), "%s %.17g\n", name.c_str(), value);
      text += line;
    }
    ssize_t written = write(fds[1], text.data(), text.size());
    _exit(written == static_cast<ssize_t>(text.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) text.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "child failed (status " << status << ")";
    return {};
  }
  Observations observed;
  std::istringstream in(text);
  std::string name;
  double value;
  while (in >> name >> value) observed[name] = value;
  return observed;
}

}  // namespace fleetsim::testutil

#endif  // FLEETSIM_TESTS_SIM_SIM_TEST_UTIL_H_

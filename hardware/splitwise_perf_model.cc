#include "hardware/splitwise_perf_model.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "util/csv.h"
#include "util/distribution.h"
#include "util/run_limits.h"

namespace fleetsim::hardware {

absl::StatusOr<std::vector<IterationPoint>> ReadSplitwisePerfRows(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  int line_no = 0;
  std::map<std::string, int> col;
  const char* kNeeded[] = {"model",      "hardware",       "prompt_size",
                           "batch_size", "token_size",     "prompt_time",
                           "token_time", "tensor_parallel"};
  std::vector<IterationPoint> rows;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> cells = SplitCsvLine(line);
    if (col.empty()) {
      for (size_t i = 0; i < cells.size(); ++i)
        col[cells[i]] = static_cast<int>(i);
      for (const char* name : kNeeded) {
        if (!col.count(name)) {
          return absl::InvalidArgumentError(absl::StrCat(
              path, ":", line_no, ": missing column '", name, "'"));
        }
      }
      continue;
    }
    auto cell = [&](const char* name) -> const std::string& {
      static const std::string kEmpty;
      const int i = col[name];
      return i < static_cast<int>(cells.size()) ? cells[i] : kEmpty;
    };
    IterationPoint p;
    p.model = cell("model");
    p.hardware = cell("hardware");
    p.repetitions = 1;
    double prompt_ms = 0;
    double token_ms = 0;
    // Each number within a sanity range (not data): a time of 1e-300 or
    // 1e300 ms would reach the simulator as an absurd iteration time.
    struct Bounded {
      const char* column;
      bool parsed;
      double value;
      double min, max;
    };
    const Bounded fields[] = {
        {"prompt_size", absl::SimpleAtoi(cell("prompt_size"), &p.prompt_tokens),
         static_cast<double>(p.prompt_tokens), 1,
         static_cast<double>(kMaxRequestTokens)},
        {"batch_size", absl::SimpleAtoi(cell("batch_size"), &p.batch),
         static_cast<double>(p.batch), 1, 1e7},
        {"token_size", absl::SimpleAtoi(cell("token_size"), &p.output_tokens),
         static_cast<double>(p.output_tokens), 0,
         static_cast<double>(kMaxRequestTokens)},
        {"tensor_parallel", absl::SimpleAtoi(cell("tensor_parallel"), &p.tp),
         static_cast<double>(p.tp), 1, 1e4},
        {"prompt_time", absl::SimpleAtod(cell("prompt_time"), &prompt_ms),
         prompt_ms, 1e-6, 1e7},
        {"token_time", absl::SimpleAtod(cell("token_time"), &token_ms),
         token_ms, 1e-6, 1e7},
    };
    for (const Bounded& f : fields) {
      if (!f.parsed) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", line_no, ": field '", f.column, "': '",
                         cell(f.column), "' is not a number"));
      }
      if (!(f.value >= f.min && f.value <= f.max)) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ":", line_no, ": field '", f.column, "' must be in [", f.min,
            ", ", f.max, "] (got ", f.value, ")"));
      }
    }
    p.prompt_s = prompt_ms * 1e-3;
    p.token_s = token_ms * 1e-3;
    rows.push_back(std::move(p));
  }
  if (col.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  }
  return rows;
}

std::string SplitwiseTableKey(const std::string& name, bool hardware) {
  std::string key;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') continue;
    key.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hardware) {
    const size_t gb = key.find("80gb");
    if (gb != std::string::npos) key.erase(gb, 4);
  }
  return key;
}

double SplitwiseTableLatency::Curve::At(double batch_tokens) const {
  if (x.size() == 1) return y[0];
  // Past the last point a falling last segment would make longer batches
  // cheaper and, further out, negative (Llama-2-70B TP2's batch-64 prompt
  // row, IterationPoint::inconsistent), where SplitwiseSim fails an
  // assertion: the curve holds its last value there instead.
  if (batch_tokens > x.back() && y.back() < y[y.size() - 2]) return y.back();
  // The segment holding batch_tokens, or the end segment it extends
  // (interp1d's fill_value="extrapolate").
  size_t hi = std::upper_bound(x.begin(), x.end(), batch_tokens) - x.begin();
  hi = std::clamp<size_t>(hi, 1, x.size() - 1);
  const size_t lo = hi - 1;
  const double t = (batch_tokens - x[lo]) / (x[hi] - x[lo]);
  const double seconds = y[lo] + t * (y[hi] - y[lo]);
  // Below the first point a steep first segment can reach zero: the
  // first value then stands (SplitwiseSim would fail its assertion).
  return seconds > 0 ? seconds : y.front();
}

absl::StatusOr<std::unique_ptr<SplitwiseTableLatency>>
SplitwiseTableLatency::Create(const std::vector<IterationPoint>& rows,
                              const std::string& origin,
                              const std::string& model,
                              const std::string& hardware, int tp) {
  const std::string model_key = SplitwiseTableKey(model, false);
  const std::string hardware_key = SplitwiseTableKey(hardware, true);
  std::map<double, std::vector<double>> prompt, token;  // by batch tokens
  for (const IterationPoint& r : rows) {
    if (r.tp != tp || SplitwiseTableKey(r.model, false) != model_key ||
        SplitwiseTableKey(r.hardware, true) != hardware_key) {
      continue;
    }
    const double batch_tokens = static_cast<double>(r.prompt_tokens) * r.batch;
    prompt[batch_tokens].push_back(r.prompt_s);
    token[batch_tokens].push_back(r.token_s);
  }
  if (prompt.empty()) {
    return absl::NotFoundError(absl::StrCat(
        origin, ": no rows for model '", model, "' on '", hardware, "' at TP ",
        tp,
        " (the table's names are matched without '-', '_', '.' and '80gb')"));
  }
  auto curve = [](std::map<double, std::vector<double>>& groups) {
    Curve c;
    for (auto& [x, ys] : groups) {
      std::sort(ys.begin(), ys.end());
      c.x.push_back(x);
      c.y.push_back(PercentileOfSorted(ys, 50));
    }
    return c;
  };
  return std::unique_ptr<SplitwiseTableLatency>(
      new SplitwiseTableLatency(curve(prompt), curve(token)));
}

double SplitwiseTableLatency::IterationSeconds(const BatchShape& batch) const {
  const double batch_tokens = static_cast<double>(batch.total_tokens());
  if (batch.decode_requests == 0) return prompt_.At(batch_tokens);
  if (batch.prefill_requests == 0) return token_.At(batch_tokens);
  return 1.1 * prompt_.At(batch_tokens);  // SplitwiseSim's mixed batch
}

IterationBreakdown SplitwiseTableLatency::Explain(
    const BatchShape& batch) const {
  IterationBreakdown b;
  b.seconds = IterationSeconds(batch);
  OperatorTime op;
  op.name = batch.decode_requests == 0    ? "splitwise_prompt"
            : batch.prefill_requests == 0 ? "splitwise_token"
                                          : "splitwise_mixed";
  op.op_class = v1::OPERATOR_CLASS_UNSPECIFIED;
  op.seconds = b.seconds;
  b.ops.push_back(std::move(op));
  return b;
}

}  // namespace fleetsim::hardware

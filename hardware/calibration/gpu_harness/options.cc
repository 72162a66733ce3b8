#include "hardware/calibration/gpu_harness/options.h"

#include <cstdlib>

#include "hardware/calibration/gpu_harness/cuda_check.h"

namespace fleetsim::calibrate {

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    size_t eq = arg.find('=');
    auto next = [&]() -> std::string {
      if (eq != std::string::npos) return arg.substr(eq + 1);
      if (i + 1 >= argc) Die(2, "missing value for " + arg);
      return argv[++i];
    };
    std::string name = arg.substr(0, eq);
    if (name == "--out") {
      o->out = next();
    } else if (name == "--ops") {
      o->ops = next();
    } else if (name == "--models_dir") {
      o->models_dir = next();
    } else if (name == "--chip") {
      o->chip = next();
    } else if (name == "--max_tokens") {
      o->max_tokens = std::atoll(next().c_str());
    } else if (name == "--reps") {
      o->reps = std::atoi(next().c_str());
    } else if (name == "--warmup") {
      o->warmup = std::atoi(next().c_str());
    } else if (name == "--tp") {
      o->tps.clear();
      std::string list = next();
      for (size_t p = 0; p < list.size();) {
        size_t c = list.find(',', p);
        o->tps.push_back(std::atoi(list.substr(p, c - p).c_str()));
        p = c == std::string::npos ? list.size() : c + 1;
      }
    } else if (name == "--list") {
      o->list = true;
    } else if (name == "--help" || name == "-h") {
      return false;
    } else {
      Die(2, "unknown flag " + arg + " (try --help)");
    }
  }
  if (o->max_tokens < 1 || o->reps < 3 || o->warmup < 0) {
    Die(2, "need --max_tokens >= 1, --reps >= 3, --warmup >= 0");
  }
  return true;
}

bool Wants(const Options& o, const std::string& op) {
  return ("," + o.ops + ",").find("," + op + ",") != std::string::npos;
}

}  // namespace fleetsim::calibrate

#include "planner/speculation.h"

#include <set>
#include <string>

namespace fleetsim::planner {

std::vector<Candidate> WholeLevels(
    const std::vector<WhatIfLevels>& per_search, size_t slots,
    const std::function<bool(const Candidate&)>& known) {
  std::vector<Candidate> out;
  std::set<std::string> keys;
  for (size_t level = 0;; ++level) {
    std::vector<Candidate> whole;
    bool deeper = false;
    for (const WhatIfLevels& levels : per_search) {
      if (level >= levels.size()) continue;
      deeper = true;
      for (const Candidate& c : levels[level]) {
        if (known(c) || !keys.insert(CandidateKey(c)).second) continue;
        whole.push_back(c);
      }
    }
    if (!deeper || out.size() + whole.size() > slots) break;
    out.insert(out.end(), whole.begin(), whole.end());
  }
  return out;
}

}  // namespace fleetsim::planner

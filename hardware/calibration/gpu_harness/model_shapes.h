// File: hardware/calibration/gpu_harness/model_shapes.h
//
// The operator shapes the calibration harness sweeps: for each catalog model
// and tensor-parallel degree, the per-chip GEMMs of one transformer layer
// (QKV, output projection, MLP up/gate+up, MLP down) and the per-token
// elementwise operators, at batch token counts 1, 2, 4, ... max_tokens.
//
// Model dimensions come from data/models/*.txtpb when that folder exists,
// otherwise from the built-in list below, which mirrors the catalog:
// Llama-2-7B/70B, Llama-3-8B/70B, CodeLlama-34B, Qwen-72B, BLOOM-176B,
// Mixtral-8x7B, Qwen2.5-7B. MLA models are skipped (their projections are
// not the four GEMMs above). Header-only so the CPU tests can check it
// without CUDA.
//
// Why a text-format reader of its own rather than protobuf's: the harness
// runs on rented GPU machines that have the CUDA toolkit and little else,
// and builds there with nvcc alone (run_on_gpu.sh) or a standalone CMake
// project that needs only CUDA; linking protobuf would mean building it
// there, with a protoc of the same version, before the first measurement.
// So the reader below is kept minimal: it tokenizes the text format (so
// one-line blocks, several fields on a line and split strings read as
// protobuf reads them) and picks out the eight fields the sweep needs. The
// CPU test (tests/hardware/calibration/calibration_table_test.cc) checks it
// against protobuf's parse of every catalog model, as written and as
// protobuf prints it on one line, and the built-in list against the
// catalog.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MODEL_SHAPES_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MODEL_SHAPES_H_

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fleetsim::calibrate {

struct ModelDims {
  std::string name;
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn = 0;    // dense MLP or per-expert intermediate size
  bool gated = true;  // SwiGLU: up projection is gate+up (2 x ffn)
};

inline std::vector<ModelDims> BuiltinModels() {
  // name, hidden, heads, kv_heads, head_dim, ffn, gated (HF config.json).
  return {
      {"llama-2-7b", 4096, 32, 32, 128, 11008, true},
      {"llama-2-70b", 8192, 64, 8, 128, 28672, true},
      {"llama-3-8b", 4096, 32, 8, 128, 14336, true},
      {"llama-3-70b", 8192, 64, 8, 128, 28672, true},
      {"codellama-34b", 8192, 64, 8, 128, 22016, true},
      {"qwen-72b", 8192, 64, 64, 128, 24576, true},
      {"bloom-176b", 14336, 112, 112, 128, 57344, false},
      {"mixtral-8x7b", 4096, 32, 8, 128, 14336, true},
      {"qwen2.5-7b", 3584, 28, 4, 128, 18944, true},
  };
}

namespace shapes_internal {

// One token of the text format: a quoted string (adjacent strings joined,
// escapes left as written), a word (name, number or enum value), or one of
// the punctuation characters { } < > [ ] : , ;
struct Token {
  std::string text;
  bool quoted = false;
};

inline std::vector<Token> Tokenize(const std::string& text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#') {
      i = text.find('\n', i);
      if (i == std::string::npos) break;
    } else if (c == '"' || c == '\'') {
      std::string value;
      for (++i; i < text.size() && text[i] != c; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) value += text[i++];
        value += text[i];
      }
      ++i;  // the closing quote
      if (!tokens.empty() && tokens.back().quoted) {
        tokens.back().text += value;
      } else {
        tokens.push_back({value, true});
      }
    } else if (std::string("{}<>[]:,;").find(c) != std::string::npos) {
      tokens.push_back({std::string(1, c), false});
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else {
      size_t end = i;
      while (end < text.size() &&
             !std::isspace(static_cast<unsigned char>(text[end])) &&
             std::string("{}<>[]:,;#\"'").find(text[end]) == std::string::npos)
        ++end;
      tokens.push_back({text.substr(i, end - i), false});
      i = end;
    }
  }
  return tokens;
}

inline bool Is(const Token& token, const char* punctuation) {
  return !token.quoted && token.text == punctuation;
}

}  // namespace shapes_internal

// Reads the fields the harness needs from a fleetsim.v1.Model text proto.
// Returns false with `why` set when the model cannot be swept (MLA, missing
// dimensions).
inline bool ParseModelText(const std::string& text, ModelDims* out,
                           std::string* why) {
  using shapes_internal::Is;
  const std::vector<shapes_internal::Token> tokens =
      shapes_internal::Tokenize(text);
  ModelDims dims;
  int64_t expert_ffn = 0;
  bool mla = false;
  std::vector<std::string> blocks;  // the enclosing message fields
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (Is(tokens[i], "}") || Is(tokens[i], ">")) {
      if (!blocks.empty()) blocks.pop_back();
      continue;
    }
    if (Is(tokens[i], ",") || Is(tokens[i], ";")) continue;
    // tokens[i] is a field name: "name: value", "name { ... }" or
    // "name: [ ... ]".
    const std::string& key = tokens[i].text;
    size_t v = i + 1;
    if (v < tokens.size() && Is(tokens[v], ":")) ++v;
    if (v >= tokens.size()) break;
    if (Is(tokens[v], "{") || Is(tokens[v], "<")) {
      blocks.push_back(key);
      i = v;
      continue;
    }
    if (Is(tokens[v], "[")) {  // a list: no field the sweep needs
      while (v < tokens.size() && !Is(tokens[v], "]")) ++v;
      i = v;
      continue;
    }
    i = v;
    const std::string& value = tokens[v].text;
    const int64_t number = std::strtoll(value.c_str(), nullptr, 10);
    if (blocks.empty()) {
      if (key == "name") dims.name = value;
      if (key == "hidden_size") dims.hidden = number;
      if (key == "num_heads") dims.heads = number;
      if (key == "num_kv_heads") dims.kv_heads = number;
      if (key == "head_dim") dims.head_dim = number;
      if (key == "ffn_dim") dims.ffn = number;
      if (key == "mlp") dims.gated = value != "MLP_KIND_GELU";
      if (key == "attention") mla = value == "ATTENTION_KIND_MLA";
    } else if (blocks.size() == 1 && blocks[0] == "moe" &&
               key == "expert_ffn_dim") {
      expert_ffn = number;
    }
  }
  if (dims.ffn == 0) dims.ffn = expert_ffn;
  if (dims.kv_heads == 0) dims.kv_heads = dims.heads;
  if (dims.head_dim == 0 && dims.heads > 0)
    dims.head_dim = dims.hidden / dims.heads;
  if (mla) {
    *why = "MLA attention (projections are not QKV/O GEMMs)";
    return false;
  }
  if (dims.name.empty() || dims.hidden <= 0 || dims.heads <= 0 ||
      dims.ffn <= 0 || dims.head_dim <= 0) {
    *why = "missing name/hidden_size/num_heads/ffn_dim";
    return false;
  }
  *out = dims;
  return true;
}

// Models from `dir`/*.txtpb (sorted by file name), or the built-in list when
// the folder is missing or yields none. Appends one line per skipped file or
// fallback to `log`.
inline std::vector<ModelDims> LoadModels(const std::string& dir,
                                         std::string* log) {
  std::vector<ModelDims> models;
  std::error_code ec;
  if (!dir.empty() && std::filesystem::is_directory(dir, ec)) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".txtpb")
        files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& path : files) {
      std::ifstream file(path);
      std::stringstream text;
      text << file.rdbuf();
      ModelDims dims;
      std::string why;
      if (ParseModelText(text.str(), &dims, &why)) {
        models.push_back(dims);
      } else {
        *log += "skipped " + path + ": " + why + "\n";
      }
    }
  }
  if (models.empty()) {
    *log += "no usable models in '" + dir + "'; using the built-in list\n";
    models = BuiltinModels();
  }
  return models;
}

// Per-chip head counts at `tp`; false when tp does not divide the query
// heads (that TP degree is skipped). K/V heads are replicated when
// tp > kv_heads, as vLLM does.
inline bool HeadsPerChip(const ModelDims& m, int tp, int64_t* q, int64_t* kv) {
  if (tp <= 0 || m.heads % tp != 0 || m.ffn % tp != 0) return false;
  if (m.kv_heads >= tp && m.kv_heads % tp != 0) return false;
  *q = m.heads / tp;
  *kv = std::max<int64_t>(1, m.kv_heads / tp);
  return true;
}

struct GemmShape {
  std::string op;  // qkv_proj, o_proj, mlp_up_proj, mlp_down_proj
  std::string model;
  int tp = 1;
  int64_t tokens = 0;
  int64_t m = 0, n = 0, k = 0;  // C[m,n] = A[m,k] * W[n,k]^T
};

// Token counts 1, 2, 4, ..., max_tokens (max_tokens included if not a power
// of two).
inline std::vector<int64_t> TokenSweep(int64_t max_tokens) {
  std::vector<int64_t> tokens;
  for (int64_t t = 1; t <= max_tokens; t *= 2) tokens.push_back(t);
  if (tokens.empty() || tokens.back() != max_tokens)
    tokens.push_back(max_tokens);
  return tokens;
}

inline std::vector<GemmShape> GemmShapes(const std::vector<ModelDims>& models,
                                         const std::vector<int>& tps,
                                         int64_t max_tokens) {
  std::vector<GemmShape> out;
  for (const ModelDims& md : models) {
    for (int tp : tps) {
      int64_t q, kv;
      if (!HeadsPerChip(md, tp, &q, &kv)) continue;
      const int64_t f = md.ffn / tp;
      for (int64_t t : TokenSweep(max_tokens)) {
        out.push_back({"qkv_proj", md.name, tp, t, t,
                       (q + 2 * kv) * md.head_dim, md.hidden});
        out.push_back(
            {"o_proj", md.name, tp, t, t, md.hidden, q * md.head_dim});
        out.push_back({"mlp_up_proj", md.name, tp, t, t, (md.gated ? 2 : 1) * f,
                       md.hidden});
        out.push_back({"mlp_down_proj", md.name, tp, t, t, md.hidden, f});
      }
    }
  }
  return out;
}

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MODEL_SHAPES_H_

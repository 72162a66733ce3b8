// Tests for hardware/calibration/aiconfigurator_import.h: every table kind
// the importer reads, on crafted lines in aiconfigurator's own column layout
// (headers copied from the H100 tables at ai-dynamo/aiconfigurator
// 095f58a), with the expected shapes worked out by hand; the known-bad rows
// dropped with their reasons; tables it cannot price rejected by name.
#include "hardware/calibration/aiconfigurator_import.h"

#include <string>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/calibration/calibration_table.h"
#include "util/gzip_file.h"

namespace fleetsim::hardware {
namespace {

using ::testing::HasSubstr;

v1::Chip H100ForImport() {
  v1::Chip c;
  c.set_name("h100");
  c.set_memory_bandwidth_tbps(3.35);
  return c;
}

const char kAttentionHeader[] =
    "framework,version,device,op_name,kernel_source,batch_size,isl,num_heads,"
    "num_key_value_heads,head_dim,beam_width,attn_dtype,kv_cache_dtype,step,"
    "window_size,latency\n";

TEST(AiconfiguratorImportTest, ContextAndGenerationAttention) {
  const std::string csv =
      std::string(kAttentionHeader) +
      "VLLM,0.24.0,NVIDIA H100 80GB HBM3,context_attention,"
      "vllm_flash_attn_fa3,4,2048,32,8,128,1,bfloat16,bfloat16,0,0,"
      "1.23456789\n"
      "VLLM,0.24.0,NVIDIA H100 80GB HBM3,generation_attention,"
      "vllm_flash_attn_fa3,64,1,32,8,128,1,bfloat16,fp8,4095,0,0.2501\n"
      "VLLM,0.24.0,NVIDIA H100 80GB HBM3,context_attention,"
      "vllm_flash_attn_fa3,1,1024,8,8,128,4,bfloat16,bfloat16,0,0,0.1\n";
  absl::StatusOr<AiconfiguratorImportResult> r =
      ImportAiconfiguratorCsv(csv, "ctx.csv", H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, AiconfiguratorTable::kAttention);
  EXPECT_EQ(r->input_rows, 3);
  ASSERT_EQ(r->table.rows_size(), 2);
  const v1::CalibrationRow& p = r->table.rows(0);
  EXPECT_EQ(p.op(), "attn_prefill");
  EXPECT_EQ(p.op_class(), v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  EXPECT_EQ(p.framework(), "vllm");
  EXPECT_EQ(p.framework_version(), "0.24.0");
  EXPECT_EQ(p.kernel_source(), "vllm_flash_attn_fa3");
  EXPECT_EQ(p.chip(), "h100");
  EXPECT_EQ(p.batch(), 4);
  EXPECT_EQ(p.new_tokens(), 2048);
  EXPECT_EQ(p.context_tokens(), 0);
  EXPECT_EQ(p.tokens(), 8192);
  EXPECT_EQ(p.heads(), 32);
  EXPECT_EQ(p.kv_heads(), 8);
  EXPECT_EQ(p.head_dim(), 128);
  EXPECT_EQ(p.dtype(), v1::DTYPE_BF16);
  EXPECT_EQ(p.kv_dtype(), v1::DTYPE_BF16);
  // 1.23456789 ms -> seconds, 6 significant digits.
  EXPECT_DOUBLE_EQ(p.median_s(), 1.23457e-3);
  EXPECT_FALSE(p.has_mean_s());
  const v1::CalibrationRow& d = r->table.rows(1);
  EXPECT_EQ(d.op(), "attn_decode");
  EXPECT_EQ(d.batch(), 64);
  EXPECT_EQ(d.new_tokens(), 1);
  EXPECT_EQ(d.context_tokens(), 4095);  // step = tokens already cached
  EXPECT_EQ(d.kv_dtype(), v1::DTYPE_FP8);
  EXPECT_DOUBLE_EQ(d.median_s(), 2.501e-4);
  ASSERT_EQ(r->dropped.size(), 1u);
  EXPECT_EQ(r->dropped[0].reason, "beam_width > 1 (beam search)");
  EXPECT_EQ(r->dropped[0].rows, 1);
  EXPECT_EQ(r->table.provenance().source(), "ai-dynamo/aiconfigurator");
  EXPECT_EQ(r->table.provenance().framework(), "vllm");
  EXPECT_EQ(r->table.provenance().device_name(), "NVIDIA H100 80GB HBM3");
  EXPECT_THAT(r->table.provenance().notes(),
              HasSubstr("dropped 1: beam_width > 1"));
}

// Decode rows whose KV read beats the memory bandwidth are the source's
// known-bad subset: 64 requests x 4096 rows x 8 KV heads x 128 x 2 (K, V) x
// 2 bytes = 1.074 GB; in 0.2 ms that is 5.4 TB/s > 3.35, in 0.4 ms 2.7.
TEST(AiconfiguratorImportTest, DropsDecodeRowsFasterThanTheMemory) {
  const std::string csv =
      std::string(kAttentionHeader) +
      "TRTLLM,1.0.0,x,generation_attention,torch_flow,64,1,32,8,128,1,"
      "bfloat16,bfloat16,4095,0,0.2\n"
      "TRTLLM,1.0.0,x,generation_attention,torch_flow,64,1,32,8,128,1,"
      "bfloat16,bfloat16,4095,0,0.4\n";
  absl::StatusOr<AiconfiguratorImportResult> r =
      ImportAiconfiguratorCsv(csv, "gen.csv", H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->table.rows_size(), 1);
  EXPECT_DOUBLE_EQ(r->table.rows(0).median_s(), 4e-4);
  ASSERT_EQ(r->dropped.size(), 1u);
  EXPECT_THAT(r->dropped[0].reason,
              HasSubstr("faster than h100's 3.35 TB/s (known bad"));
}

TEST(AiconfiguratorImportTest, GemmKeepsFp8BlockAndDropsWeightOnly) {
  const std::string csv =
      "framework,version,device,op_name,kernel_source,gemm_dtype,m,n,k,"
      "latency\n"
      "SGLang,0.5.14,d,gemm,sglang_torch_linear,bfloat16,256,4096,8192,0.05\n"
      "SGLang,0.5.14,d,gemm,deepgemm,fp8_block,256,4096,8192,0.03\n"
      "TRTLLM,1.0.0,d,gemm,woq,int4_wo,256,4096,8192,0.03\n"
      "TRTLLM,1.0.0,d,gemm,woq,int4_wo,512,4096,8192,0.04\n";
  absl::StatusOr<AiconfiguratorImportResult> r =
      ImportAiconfiguratorCsv(csv, "gemm.csv", H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, AiconfiguratorTable::kGemm);
  ASSERT_EQ(r->table.rows_size(), 2);
  EXPECT_EQ(r->table.rows(0).op_class(), v1::OPERATOR_CLASS_GEMM);
  EXPECT_EQ(r->table.rows(0).m(), 256);
  EXPECT_EQ(r->table.rows(0).n(), 4096);
  EXPECT_EQ(r->table.rows(0).k(), 8192);
  EXPECT_EQ(r->table.rows(0).framework(), "sglang");
  EXPECT_EQ(r->table.rows(1).dtype(), v1::DTYPE_FP8);
  EXPECT_EQ(r->table.rows(1).quant(), "fp8_block");
  ASSERT_EQ(r->dropped.size(), 1u);
  EXPECT_EQ(r->dropped[0].rows, 2);
  EXPECT_THAT(r->dropped[0].reason, HasSubstr("gemm_dtype 'int4_wo'"));
}

// message_size counts elements: 1M half elements = 2 MiB per rank.
TEST(AiconfiguratorImportTest, NcclAndCustomAllReduceMessagesInBytes) {
  const std::string nccl =
      "framework,version,device,op_name,kernel_source,nccl_dtype,num_gpus,"
      "message_size,latency\n"
      "TRTLLM,2.29.2,d,all_reduce,NCCL,half,8,1048576,0.0521\n"
      "TRTLLM,2.29.2,d,all_gather,NCCL,half,4,256,0.0053\n"
      "TRTLLM,2.29.2,d,all_reduce,NCCL,int8,8,1048576,0.03\n";
  absl::StatusOr<AiconfiguratorImportResult> r =
      ImportAiconfiguratorCsv(nccl, "nccl.csv", H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, AiconfiguratorTable::kNccl);
  ASSERT_EQ(r->table.rows_size(), 2);
  EXPECT_EQ(r->table.rows(0).op(), "all_reduce");
  EXPECT_EQ(r->table.rows(0).op_class(), v1::OPERATOR_CLASS_COLLECTIVE);
  EXPECT_EQ(r->table.rows(0).bytes(), 2097152);
  EXPECT_EQ(r->table.rows(0).ranks(), 8);
  EXPECT_EQ(r->table.rows(0).ranks_per_node(), 8);
  EXPECT_EQ(r->table.rows(0).framework(), "nccl");
  EXPECT_EQ(r->table.rows(0).framework_version(), "2.29.2");
  EXPECT_EQ(r->table.rows(1).op(), "all_gather");
  EXPECT_EQ(r->table.rows(1).bytes(), 512);
  EXPECT_EQ(r->dropped.size(), 1u);  // int8

  const std::string custom =
      "framework,version,device,op_name,kernel_source,allreduce_dtype,"
      "num_gpus,message_size,latency,backend\n"
      "vLLM,0.24.0,d,all_reduce,vLLM_custom_graph,bfloat16,2,128,0.0043,"
      "vllm_graph\n";
  r = ImportAiconfiguratorCsv(custom, "ar.csv", H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, AiconfiguratorTable::kCustomAllReduce);
  EXPECT_EQ(r->table.rows(0).op(), "all_reduce");
  EXPECT_EQ(r->table.rows(0).bytes(), 256);
  EXPECT_EQ(r->table.rows(0).kernel_source(), "vLLM_custom_graph");
  EXPECT_EQ(r->table.rows(0).framework(), "vllm");
}

TEST(AiconfiguratorImportTest, MoeRoutingIsFirstClass) {
  const std::string csv =
      "framework,version,device,op_name,kernel_source,moe_dtype,num_tokens,"
      "hidden_size,inter_size,topk,num_experts,moe_tp_size,moe_ep_size,"
      "distribution,latency\n"
      "TRTLLM,1.3.0rc20,d,moe,moe_torch_flow_cutlass,bfloat16,128,4096,14336,"
      "2,8,2,1,power_law_1.01,0.41\n"
      "TRTLLM,1.3.0rc20,d,moe,moe_torch_flow_cutlass,fp8,128,4096,14336,2,8,"
      "2,1,balanced,0.3\n"
      "TRTLLM,1.3.0rc20,d,moe,moe_torch_flow_cutlass,fp8,128,4096,14336,2,8,"
      "2,1,zipf,0.3\n";
  absl::StatusOr<AiconfiguratorImportResult> r =
      ImportAiconfiguratorCsv(csv, "moe.csv", H100ForImport());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("moe.csv:4: column 'distribution': 'zipf' is neither"));
  r = ImportAiconfiguratorCsv(csv.substr(0, csv.rfind("TRTLLM")), "moe.csv",
                              H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->table.rows_size(), 2);
  const v1::CalibrationRow& m = r->table.rows(0);
  EXPECT_EQ(m.op_class(), v1::OPERATOR_CLASS_MOE);
  EXPECT_EQ(m.tokens(), 128);
  EXPECT_EQ(m.hidden(), 4096);
  EXPECT_EQ(m.inter(), 14336);
  EXPECT_EQ(m.top_k(), 2);
  EXPECT_EQ(m.experts(), 8);
  EXPECT_EQ(m.moe_tp(), 2);
  EXPECT_EQ(m.moe_ep(), 1);
  EXPECT_EQ(m.routing(), "power_law");
  EXPECT_DOUBLE_EQ(m.routing_alpha(), 1.01);
  EXPECT_EQ(r->table.rows(1).routing(), "balanced");
  EXPECT_EQ(r->table.rows(1).dtype(), v1::DTYPE_FP8);
}

TEST(AiconfiguratorImportTest, MlaCoreAndBmmCarryDeepSeekDimensions) {
  const std::string header =
      "framework,version,device,op_name,kernel_source,mla_dtype,"
      "kv_cache_dtype,num_heads,batch_size,isl,tp_size,step,latency\n";
  const std::string mla =
      header +
      "TRTLLM,1.3.0rc20,d,mla_generation,default,bfloat16,bfloat16,128,128,1,"
      "1,4095,0.26\n"
      "TRTLLM,1.3.0rc20,d,mla_context,default,bfloat16,bfloat16,16,2,1024,8,"
      "0,0.2\n";
  absl::StatusOr<AiconfiguratorImportResult> r =
      ImportAiconfiguratorCsv(mla, "mla.csv", H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, AiconfiguratorTable::kMla);
  const v1::CalibrationRow& d = r->table.rows(0);
  EXPECT_EQ(d.op(), "mla_decode");
  EXPECT_EQ(d.op_class(), v1::OPERATOR_CLASS_ATTENTION_DECODE);
  EXPECT_TRUE(d.absorbed());
  EXPECT_EQ(d.heads(), 128);
  EXPECT_EQ(d.kv_heads(), 1);
  EXPECT_EQ(d.latent_dim(), 512);
  EXPECT_EQ(d.rope_dim(), 64);
  EXPECT_EQ(d.head_dim(), 128);
  EXPECT_EQ(d.v_head_dim(), 128);
  EXPECT_EQ(d.context_tokens(), 4095);
  const v1::CalibrationRow& p = r->table.rows(1);
  EXPECT_EQ(p.op(), "mla_prefill");
  EXPECT_FALSE(p.absorbed());
  EXPECT_EQ(p.kv_heads(), 16);
  EXPECT_EQ(p.new_tokens(), 1024);
  EXPECT_EQ(p.tp(), 8);

  // vLLM names the ops the other way round (A100 vLLM 0.14.0).
  const std::string vllm =
      header +
      "VLLM,0.14.0,d,generation_mla,vllm_triton_mla,bfloat16,bfloat16,128,1,"
      "1,1,1,0.31\n"
      "VLLM,0.14.0,d,context_mla,vllm_triton_mla,bfloat16,bfloat16,128,1,1,"
      "1,0,0.49\n";
  absl::StatusOr<AiconfiguratorImportResult> v =
      ImportAiconfiguratorCsv(vllm, "mla_vllm.csv", H100ForImport());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->table.rows(0).op(), "mla_decode");
  EXPECT_EQ(v->table.rows(0).framework(), "vllm");
  EXPECT_EQ(v->table.rows(0).kernel_source(), "vllm_triton_mla");
  EXPECT_EQ(v->table.rows(1).op(), "mla_prefill");
  absl::StatusOr<AiconfiguratorImportResult> bad = ImportAiconfiguratorCsv(
      absl::StrReplaceAll(vllm, {{"generation_mla", "mla_decode_x"}}),
      "bad.csv", H100ForImport());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("bad.csv:2"));
  EXPECT_THAT(bad.status().message(), HasSubstr("op_name"));

  const std::string bmm =
      "framework,version,device,op_name,kernel_source,bmm_dtype,num_tokens,"
      "num_heads,latency\n"
      "SGLang,0.5.14,d,mla_gen_pre,sglang_torch_bmm,bfloat16,64,128,0.0101\n"
      "SGLang,0.5.14,d,mla_gen_post,sglang_torch_bmm,bfloat16,64,128,0.0102\n";
  r = ImportAiconfiguratorCsv(bmm, "bmm.csv", H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, AiconfiguratorTable::kMlaBmm);
  EXPECT_EQ(r->table.rows(0).op_class(), v1::OPERATOR_CLASS_GEMM);
  EXPECT_EQ(r->table.rows(0).m(), 64);
  EXPECT_EQ(r->table.rows(0).n(), 512);  // q_nope 128 -> latent 512
  EXPECT_EQ(r->table.rows(0).k(), 128);
  EXPECT_EQ(r->table.rows(0).heads(), 128);
  EXPECT_EQ(r->table.rows(1).n(), 128);  // latent 512 -> v_head 128
  EXPECT_EQ(r->table.rows(1).k(), 512);
}

TEST(AiconfiguratorImportTest, Mamba2KeepsPrefillAndDropsCachedDecode) {
  const std::string csv =
      "framework,version,device,op_name,kernel_source,phase,batch_size,"
      "seq_len,num_tokens,d_model,d_state,d_conv,nheads,head_dim,n_groups,"
      "chunk_size,model_name,latency\n"
      "TRTLLM,1.3.0rc20,d,mamba2,causal_conv1d_fn,context,2,4096,8192,8192,"
      "128,4,256,64,8,128,nvidia/Nemotron-H-56B-Base-8K,0.5\n"
      "TRTLLM,1.3.0rc20,d,mamba2,causal_conv1d_update,generation,256,1,256,"
      "8192,128,4,256,64,8,128,nvidia/Nemotron-H-56B-Base-8K,0.01\n";
  absl::StatusOr<AiconfiguratorImportResult> r =
      ImportAiconfiguratorCsv(csv, "m2.csv", H100ForImport());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->table.rows_size(), 1);
  const v1::CalibrationRow& s = r->table.rows(0);
  EXPECT_EQ(s.op(), "ssm_conv");  // the row's kernel_source
  EXPECT_EQ(s.op_class(), v1::OPERATOR_CLASS_SSM);
  EXPECT_EQ(s.batch(), 2);
  EXPECT_EQ(s.new_tokens(), 4096);
  EXPECT_EQ(s.tokens(), 8192);
  EXPECT_EQ(s.heads(), 256);
  EXPECT_EQ(s.head_dim(), 64);
  EXPECT_EQ(s.d_state(), 128);
  EXPECT_EQ(s.ssm_groups(), 8);
  EXPECT_EQ(s.chunk(), 128);
  EXPECT_EQ(s.conv_kernel(), 4);
  ASSERT_EQ(r->dropped.size(), 1u);
  EXPECT_THAT(r->dropped[0].reason, HasSubstr("mamba2 generation"));
}

TEST(AiconfiguratorImportTest, RejectsTablesItCannotPriceAndBadCells) {
  absl::StatusOr<AiconfiguratorImportResult> r = ImportAiconfiguratorCsv(
      "framework,version,device,op_name,kernel_source,model,architecture,"
      "mla_dtype,kv_cache_dtype,gemm_type,num_heads,batch_size,isl,tp_size,"
      "step,latency\n"
      "TRTLLM,1.3.0rc20,d,mla_context_module,default,deepseek-ai/DeepSeek-V3,"
      "DeepseekV3ForCausalLM,bfloat16,bfloat16,bfloat16,128,1,1,1,0,0.16\n",
      "module.csv", H100ForImport());
  EXPECT_THAT(r.status().message(), HasSubstr("MLA module table"));
  r = ImportAiconfiguratorCsv(
      "framework,version,phase,num_k_heads,head_k_dim,num_v_heads,"
      "head_v_dim,latency\n"
      "vLLM,0.24.0,context,16,128,16,128,0.002\n",
      "gdn.csv", H100ForImport());
  EXPECT_THAT(r.status().message(), HasSubstr("gated delta-net"));
  r = ImportAiconfiguratorCsv("a,b,c\n1,2,3\n", "x.csv", H100ForImport());
  EXPECT_THAT(r.status().message(),
              HasSubstr("x.csv: not an aiconfigurator table"));
  r = ImportAiconfiguratorCsv(std::string(kAttentionHeader) +
                                  "VLLM,0.24.0,d,context_attention,fa3,four,"
                                  "16,8,8,128,1,bfloat16,bfloat16,0,0,0.1\n",
                              "bad.csv", H100ForImport());
  EXPECT_EQ(r.status().message(),
            "bad.csv:2: column 'batch_size': 'four' is not an integer");
  r = ImportAiconfiguratorCsv(std::string(kAttentionHeader), "empty.csv",
                              H100ForImport());
  EXPECT_EQ(r.status().message(), "empty.csv: no data rows");
}

TEST(AiconfiguratorImportTest, ReadsGzipFilesAndTheShippedSubset) {
  const std::string path = std::string(FLEETSIM_SOURCE_DIR) +
                           "/data/calibration/aiconfigurator/"
                           "h100_vllm_context_attention_subset.csv.gz";
  absl::StatusOr<AiconfiguratorImportResult> r =
      ImportAiconfiguratorFile(path, H100ForImport(), {"095f58a", "p", "b"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->table.rows_size(), 10);
  EXPECT_EQ(r->table.provenance().source_commit(), "095f58a");
  EXPECT_EQ(r->table.provenance().source_blob(), "b");
  for (const v1::CalibrationRow& row : r->table.rows()) {
    EXPECT_EQ(row.framework(), "vllm");
  }
  EXPECT_EQ(ImportAiconfiguratorFile("/nonexistent.csv.gz", H100ForImport())
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fleetsim::hardware

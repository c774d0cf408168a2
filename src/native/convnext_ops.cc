// Fused CPU kernels for the ConvNeXt block, registered as TensorFlow ops through TensorFlow's stable
// kernel C API (tensorflow/c/kernels.h, ops.h) into the libtensorflow that tfjs-node has loaded, so
// tfjs-node runs them like any built-in op (`backend.executeMultipleOutputs('CnxLayerNorm', ...)`).
//
// Why: composed from TensorFlow ops, LayerNorm is ~10 kernels and exact GELU ~5, each a full pass over
// memory; PyTorch runs each as one fused kernel. These kernels do the same: one pass (row-local, in
// cache) per norm / activation / residual, forward and backward; plus a fused AdamW step and, for
// inference, the depthwise conv + LayerNorm in one pass. The matmuls stay TensorFlow's, and so does the
// depthwise conv in training.
//
// Numerics: erf is the rational approximation Eigen (and so TensorFlow's Erf op) uses for float, exp a
// Cephes-style polynomial; both within a few ulp of the exact functions. Built as a Node-API addon so a
// plain `require` registers the ops; see src/native/index.ts.
#include <node_api.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// The subset of TensorFlow's stable C API (tensorflow/c/kernels.h, ops.h, tf_status.h, tf_tensor.h)
// used here, declared directly: the tensorflow_cpu wheel that tfjs-node is built from does not ship
// every header those files include. All of it lives in libtensorflow_framework.so.2.
extern "C" {
typedef struct TF_Status TF_Status;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_OpKernelContext TF_OpKernelContext;
typedef struct TF_OpKernelConstruction TF_OpKernelConstruction;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_KernelBuilder TF_KernelBuilder;
typedef enum TF_Code { TF_OK = 0, TF_INVALID_ARGUMENT = 3 } TF_Code;
typedef enum TF_DataType { TF_FLOAT = 1 } TF_DataType;

TF_Status* TF_NewStatus(void);
void TF_DeleteStatus(TF_Status*);
TF_Code TF_GetCode(const TF_Status*);
const char* TF_Message(const TF_Status*);
void TF_SetStatus(TF_Status*, TF_Code, const char*);

void TF_DeleteTensor(TF_Tensor*);
void* TF_TensorData(const TF_Tensor*);
int TF_NumDims(const TF_Tensor*);
int64_t TF_Dim(const TF_Tensor*, int);
int64_t TF_TensorElementCount(const TF_Tensor*);

TF_OpDefinitionBuilder* TF_NewOpDefinitionBuilder(const char* op_name);
void TF_OpDefinitionBuilderAddInput(TF_OpDefinitionBuilder*, const char* input_spec);
void TF_OpDefinitionBuilderAddOutput(TF_OpDefinitionBuilder*, const char* output_spec);
void TF_OpDefinitionBuilderAddAttr(TF_OpDefinitionBuilder*, const char* attr_spec);
void TF_RegisterOpDefinition(TF_OpDefinitionBuilder*, TF_Status*);

TF_KernelBuilder* TF_NewKernelBuilder(const char* op_name, const char* device_name,
                                      void* (*create_func)(TF_OpKernelConstruction*),
                                      void (*compute_func)(void*, TF_OpKernelContext*), void (*delete_func)(void*));
void TF_RegisterKernelBuilder(const char* kernel_name, TF_KernelBuilder*, TF_Status*);
void TF_OpKernelConstruction_GetAttrFloat(TF_OpKernelConstruction*, const char* attr_name, float* val, TF_Status*);
void TF_OpKernelConstruction_GetAttrInt32(TF_OpKernelConstruction*, const char* attr_name, int32_t* val, TF_Status*);
int TF_NumInputs(TF_OpKernelContext*);
void TF_GetInput(TF_OpKernelContext*, int i, TF_Tensor** tensor, TF_Status*);
TF_Tensor* TF_AllocateOutput(TF_OpKernelContext*, int index, TF_DataType, const int64_t* dims, int num_dims,
                             size_t len, TF_Status*);
void TF_OpKernelContext_Failure(TF_OpKernelContext*, TF_Status*);
}

namespace {

// ---------------------------------------------------------------------------------------------------
// A small persistent thread pool: ParallelFor splits [0, n) into a few contiguous chunks per thread that
// threads take from a shared counter, the caller included. Workers sleep on a condition variable between
// calls, so they never spin against TensorFlow's threads; and on a loaded machine a worker that is not
// scheduled in time leaves its chunks to the others instead of holding up the op (with one fixed chunk per
// thread, small ops waited ~1 ms for it).

class Pool {
 public:
  explicit Pool(int threads) : threads_(std::max(1, threads)) {
    for (int i = 1; i < threads_; i++) workers_.emplace_back([this] { Loop(); });
  }

  int threads() const { return threads_; }

  // The most chunks one ParallelFor makes: size per-chunk partial results by this.
  int slots() const { return threads_ * kChunksPerThread; }

  // fn(begin, end, chunk) on disjoint ranges covering [0, n), each at least min_per_thread long (but one),
  // chunk < slots(). Chunk boundaries depend only on n and min_per_thread, so partial sums per chunk, reduced
  // in chunk order, are deterministic whichever thread ran them. Small ranges run inline as chunk 0.
  void ParallelFor(int64_t n, int64_t min_per_thread, const std::function<void(int64_t, int64_t, int)>& fn) {
    const int64_t pieces = std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_thread));
    if (threads_ <= 1 || pieces <= 1) {
      fn(0, n, 0);
      return;
    }
    std::unique_lock<std::mutex> call(call_mu_);  // one parallel region at a time
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      n_ = n;
      chunks_ = std::min<int64_t>(pieces, slots());
      done_ = 0;
      generation_++;
      // Published last: a worker that claims a chunk of this call sees fn_, n_ and chunks_ above.
      next_.store(0, std::memory_order_release);
    }
    cv_.notify_all();
    RunChunks();
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return done_ == chunks_; });
    fn_ = nullptr;
  }

 private:
  static constexpr int kChunksPerThread = 4;

  void RunChunks() {
    int64_t completed = 0;
    for (int64_t c; (c = next_.fetch_add(1, std::memory_order_acq_rel)) < chunks_; completed++) {
      (*fn_)(n_ * c / chunks_, n_ * (c + 1) / chunks_, static_cast<int>(c));
    }
    if (completed == 0) return;
    std::lock_guard<std::mutex> lk(mu_);
    done_ += completed;
    if (done_ == chunks_) done_cv_.notify_one();
  }

  void Loop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return generation_ != seen; });
        seen = generation_;
      }
      RunChunks();
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex call_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t, int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0, chunks_ = 0, done_ = 0;
  std::atomic<int64_t> next_{0};
  uint64_t generation_ = 0;
};

int PoolThreads() {
  for (const char* name : {"CONVNEXT_NATIVE_THREADS", "TF_NUM_INTRAOP_THREADS"}) {
    const char* v = std::getenv(name);
    if (v && std::atoi(v) > 0) return std::atoi(v);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

Pool& GetPool() {
  static Pool* pool = new Pool(PoolThreads());  // never destroyed: workers live as long as the process
  return *pool;
}

// ---------------------------------------------------------------------------------------------------
// Element functions (written so GCC vectorises the loops that call them).

inline float Erf(float a) {
  // Eigen's generic_fast_erf_float: x * P(x^2) / Q(x^2) on [-4, 4], +-1 beyond.
  const float x = std::min(4.f, std::max(-4.f, a));
  const float x2 = x * x;
  float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = x2 * p + -2.10102402082508e-06f;
  p = x2 * p + -5.69250639462346e-05f;
  p = x2 * p + -7.34990630326855e-04f;
  p = x2 * p + -2.95459980854025e-03f;
  p = x2 * p + -1.60960333262415e-02f;
  p = x * p;
  float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = x2 * q + -1.68282697438203e-03f;
  q = x2 * q + -7.37332916720468e-03f;
  q = x2 * q + -1.42647390514189e-02f;
  return p / q;
}

inline float Exp(float a) {
  // Cephes expf: e^a = 2^n * e^r with |r| <= ln2/2, e^r by a degree-6 polynomial.
  const float x = std::min(88.3762626647949f, std::max(-87.3365478515625f, a));
  // n = round(x / ln2) by the 1.5 * 2^23 trick (std::floor would stop GCC from vectorising the loop).
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return p * __builtin_bit_cast(float, bits);
}

constexpr float kSqrtHalf = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

inline float Gelu(float h) { return 0.5f * h * (1.f + Erf(h * kSqrtHalf)); }

inline float GeluDerivative(float h) {
  return 0.5f * (1.f + Erf(h * kSqrtHalf)) + h * kInvSqrt2Pi * Exp(-0.5f * h * h);
}

// ---------------------------------------------------------------------------------------------------
// Kernel plumbing.

struct Inputs {
  TF_OpKernelContext* ctx;
  std::vector<TF_Tensor*> tensors;
  TF_Status* status;

  explicit Inputs(TF_OpKernelContext* c) : ctx(c), status(TF_NewStatus()) {}
  ~Inputs() {
    for (TF_Tensor* t : tensors) TF_DeleteTensor(t);
    TF_DeleteStatus(status);
  }

  TF_Tensor* Get(int i) {
    TF_Tensor* t = nullptr;
    TF_GetInput(ctx, i, &t, status);
    tensors.push_back(t);
    return t;
  }

  TF_Tensor* Output(int i, const TF_Tensor* like) {
    std::vector<int64_t> dims(TF_NumDims(like));
    for (size_t d = 0; d < dims.size(); d++) dims[d] = TF_Dim(like, static_cast<int>(d));
    return Output(i, dims);
  }

  TF_Tensor* Output(int i, const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    TF_Tensor* t = TF_AllocateOutput(ctx, i, TF_FLOAT, dims.data(), static_cast<int>(dims.size()),
                                     static_cast<size_t>(n) * sizeof(float), status);
    tensors.push_back(t);
    return t;
  }

  bool Ok() const { return TF_GetCode(status) == TF_OK; }

  void Fail(const char* msg) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, msg);
    TF_OpKernelContext_Failure(ctx, status);
  }
};

inline float* Data(TF_Tensor* t) { return static_cast<float*>(TF_TensorData(t)); }
inline int64_t Last(TF_Tensor* t) { return TF_NumDims(t) == 0 ? 1 : TF_Dim(t, TF_NumDims(t) - 1); }
inline int64_t Count(TF_Tensor* t) { return TF_TensorElementCount(t); }

// Per-chunk partial column sums (Pool::slots() of them), reduced into `out` (length c) in chunk order at the end.
struct ColumnSums {
  std::vector<float> partial;
  int64_t c;
  ColumnSums(int slots, int64_t cols) : partial(static_cast<size_t>(slots * cols), 0.f), c(cols) {}
  float* For(int chunk) { return partial.data() + chunk * c; }
  void ReduceInto(float* out, int slots) const {
    for (int64_t j = 0; j < c; j++) {
      float s = 0.f;
      for (int t = 0; t < slots; t++) s += partial[t * c + j];
      out[j] = s;
    }
  }
};

constexpr int64_t kRowsPerTask = 16;

// ---------------------------------------------------------------------------------------------------
// Vectors of L floats at any 4-byte-aligned address; GCC keeps these in vector registers (AVX-512: one zmm
// for 16). VecOf<1> is a plain float, so one loop body serves vector blocks and single values.

typedef float V16 __attribute__((vector_size(64), aligned(4), may_alias));
typedef float V8 __attribute__((vector_size(32), aligned(4), may_alias));
template <int L>
struct VecOf;
template <>
struct VecOf<16> {
  using T = V16;
  static constexpr int kWidth = 16;
};
template <>
struct VecOf<8> {
  using T = V8;
  static constexpr int kWidth = 8;
};
template <>
struct VecOf<1> {
  using T = float;
  static constexpr int kWidth = 1;
};

template <int L>
inline typename VecOf<L>::T LoadV(const float* p) {
  typename VecOf<L>::T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <int L>
inline void StoreV(float* p, typename VecOf<L>::T v) {
  std::memcpy(p, &v, sizeof v);
}

// f(VecOf<L>{}, j) over a row of c values: blocks of 16 from j = 0, one of 8, then single values. For the
// short rows of small models (C = 40: 16 + 16 + 8) this avoids the scalar loop tail GCC gives `omp simd`
// loops, which cost as much as their vector part.
template <typename F>
inline void Blocks(int64_t c, F&& f) {
  int64_t j = 0;
  for (; j + 16 <= c; j += 16) f(VecOf<16>{}, j);
  if (j + 8 <= c) {
    f(VecOf<8>{}, j);
    j += 8;
  }
  for (; j < c; j++) f(VecOf<1>{}, j);
}

// A sum kept in one accumulator per block width, added up once at the end.
struct BlockSum {
  V16 a{};
  V8 b{};
  float s = 0.f;
  void Add(V16 v) { a += v; }
  void Add(V8 v) { b += v; }
  void Add(float v) { s += v; }
  float Total() const {
    // Halving folds (a short dependency chain, unlike a lane-by-lane sum).
    typedef float V4 __attribute__((vector_size(16)));
    const V8 h = __builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15) + b;
    const V4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
    return (q[0] + q[2]) + (q[1] + q[3]) + s;
  }
};

// ---------------------------------------------------------------------------------------------------
// Row functions: one row of C (or 4C) values, pointers declared non-aliasing so the loops vectorise
// (kept out of line: inlined into the lambdas, GCC loses the restrict information).

// LayerNorm of v = x + bias_in: y = (v - mean) * rstd * w + b; returns {mean, rstd}.
__attribute__((noinline)) void NormRow(const float* __restrict x, const float* __restrict bi, const float* __restrict w,
                                       const float* __restrict b, float* __restrict y, int64_t c, float eps, float* mean,
                                       float* rstd) {
  BlockSum s;
  Blocks(c, [&](auto tag, int64_t j) {
    constexpr int L = decltype(tag)::kWidth;
    s.Add(LoadV<L>(x + j) + LoadV<L>(bi + j));
  });
  const float mu = s.Total() / c;
  BlockSum ss;
  Blocks(c, [&](auto tag, int64_t j) {
    constexpr int L = decltype(tag)::kWidth;
    const auto d = LoadV<L>(x + j) + LoadV<L>(bi + j) - mu;
    ss.Add(d * d);
  });
  const float rs = 1.f / std::sqrt(ss.Total() / c + eps);
  Blocks(c, [&](auto tag, int64_t j) {
    constexpr int L = decltype(tag)::kWidth;
    StoreV<L>(y + j, (LoadV<L>(x + j) + LoadV<L>(bi + j) - mu) * rs * LoadV<L>(w + j) + LoadV<L>(b + j));
  });
  *mean = mu;
  *rstd = rs;
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * w; accumulates dw, db, dbias_in.
__attribute__((noinline)) void NormGradRow(const float* __restrict dy, const float* __restrict x, const float* __restrict bi,
                                           const float* __restrict w, float mu, float rs, float* __restrict dx,
                                           float* __restrict aw, float* __restrict ab, float* __restrict abi, int64_t c) {
  BlockSum sg, sgx;
  Blocks(c, [&](auto tag, int64_t j) {
    constexpr int L = decltype(tag)::kWidth;
    const auto xh = (LoadV<L>(x + j) + LoadV<L>(bi + j) - mu) * rs;
    const auto d = LoadV<L>(dy + j);
    const auto g = d * LoadV<L>(w + j);
    sg.Add(g);
    sgx.Add(g * xh);
    StoreV<L>(aw + j, LoadV<L>(aw + j) + d * xh);
    StoreV<L>(ab + j, LoadV<L>(ab + j) + d);
  });
  const float mg = sg.Total() / c, mgx = sgx.Total() / c;
  Blocks(c, [&](auto tag, int64_t j) {
    constexpr int L = decltype(tag)::kWidth;
    const auto xh = (LoadV<L>(x + j) + LoadV<L>(bi + j) - mu) * rs;
    const auto d = rs * (LoadV<L>(dy + j) * LoadV<L>(w + j) - mg - xh * mgx);
    StoreV<L>(dx + j, d);
    StoreV<L>(abi + j, LoadV<L>(abi + j) + d);
  });
}

__attribute__((noinline)) void BiasGeluRow(const float* __restrict a, const float* __restrict b, float* __restrict y, int64_t c) {
#pragma omp simd
  for (int64_t j = 0; j < c; j++) y[j] = Gelu(a[j] + b[j]);
}

__attribute__((noinline)) void BiasGeluGradRow(const float* __restrict dy, const float* __restrict a, const float* __restrict b,
                            float* __restrict dh, float* __restrict ab, int64_t c) {
#pragma omp simd
  for (int64_t j = 0; j < c; j++) {
    const float d = dy[j] * GeluDerivative(a[j] + b[j]);
    dh[j] = d;
    ab[j] += d;
  }
}

__attribute__((noinline)) void ScaleResidualRow(const float* __restrict x, const float* __restrict o,
                                                const float* __restrict b, const float* __restrict g, float k,
                                                float* __restrict y, int64_t c) {
  Blocks(c, [&](auto tag, int64_t j) {
    constexpr int L = decltype(tag)::kWidth;
    StoreV<L>(y + j, LoadV<L>(x + j) + k * (LoadV<L>(g + j) * (LoadV<L>(o + j) + LoadV<L>(b + j))));
  });
}

__attribute__((noinline)) void ScaleResidualGradRow(const float* __restrict dy, const float* __restrict o,
                                                    const float* __restrict b, const float* __restrict g, float k,
                                                    float* __restrict dout, float* __restrict ab, float* __restrict ag,
                                                    int64_t c) {
  Blocks(c, [&](auto tag, int64_t j) {
    constexpr int L = decltype(tag)::kWidth;
    const auto ks = LoadV<L>(dy + j) * k;
    const auto d = ks * LoadV<L>(g + j);
    StoreV<L>(dout + j, d);
    StoreV<L>(ab + j, LoadV<L>(ab + j) + d);
    StoreV<L>(ag + j, LoadV<L>(ag + j) + ks * (LoadV<L>(o + j) + LoadV<L>(b + j)));
  });
}

// ---------------------------------------------------------------------------------------------------
// CnxLayerNorm(x, w, b, bias_in; eps) -> y [rows, C], mean, rstd: LayerNorm over the last axis of
// v = x + bias_in (the preceding depthwise conv's bias folded in); mean and rstd per row feed the backward
// pass. Gradient kernels below take any shape with the right element count and shape outputs like their
// first tensor argument, so the block needs no reshapes (each a ~90 us op call through tfjs).

struct NormAttrs {
  float eps;
};

void* NormCreate(TF_OpKernelConstruction* ctx) {
  auto* a = new NormAttrs{1e-6f};
  TF_Status* s = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrFloat(ctx, "eps", &a->eps, s);
  TF_DeleteStatus(s);
  return a;
}

void NormDelete(void* k) { delete static_cast<NormAttrs*>(k); }

void LayerNormCompute(void* kernel, TF_OpKernelContext* ctx) {
  const float eps = static_cast<NormAttrs*>(kernel)->eps;
  Inputs in(ctx);
  TF_Tensor *x = in.Get(0), *w = in.Get(1), *b = in.Get(2), *bias_in = in.Get(3);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const int64_t c = Last(x), m = c == 0 ? 0 : Count(x) / c;
  if (Count(w) != c || Count(b) != c || Count(bias_in) != c) return in.Fail("CnxLayerNorm: w, b, bias_in must have C values");
  TF_Tensor* y = in.Output(0, {m, c});  // [rows, C]: ready for the next Linear's matmul
  TF_Tensor* mean = in.Output(1, {m});
  TF_Tensor* rstd = in.Output(2, {m});
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *px = Data(x), *pw = Data(w), *pb = Data(b), *pbi = Data(bias_in);
  float *py = Data(y), *pm = Data(mean), *pr = Data(rstd);
  GetPool().ParallelFor(m, kRowsPerTask, [=](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; r++) NormRow(px + r * c, pbi, pw, pb, py + r * c, c, eps, pm + r, pr + r);
  });
}

// CnxLayerNormGrad(dy, x, w, bias_in, mean, rstd) -> dx, dw, db, dbias_in.
void LayerNormGradCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  TF_Tensor *dy = in.Get(0), *x = in.Get(1), *w = in.Get(2), *bias_in = in.Get(3), *mean = in.Get(4), *rstd = in.Get(5);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const int64_t c = Last(x), m = c == 0 ? 0 : Count(x) / c;
  if (Count(dy) != Count(x) || Count(w) != c || Count(bias_in) != c || Count(mean) != m || Count(rstd) != m) {
    return in.Fail("CnxLayerNormGrad: shape mismatch");
  }
  TF_Tensor* dx = in.Output(0, x);
  TF_Tensor* dw = in.Output(1, {c});
  TF_Tensor* db = in.Output(2, {c});
  TF_Tensor* dbi = in.Output(3, {c});
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *pdy = Data(dy), *px = Data(x), *pw = Data(w), *pbi = Data(bias_in), *pm = Data(mean), *pr = Data(rstd);
  float* pdx = Data(dx);
  const int slots = GetPool().slots();
  ColumnSums sw(slots, c), sb(slots, c), sbi(slots, c);
  GetPool().ParallelFor(m, kRowsPerTask, [=, &sw, &sb, &sbi](int64_t r0, int64_t r1, int t) {
    float *aw = sw.For(t), *ab = sb.For(t), *abi = sbi.For(t);
    for (int64_t r = r0; r < r1; r++) {
      NormGradRow(pdy + r * c, px + r * c, pbi, pw, pm[r], pr[r], pdx + r * c, aw, ab, abi, c);
    }
  });
  sw.ReduceInto(Data(dw), slots);
  sb.ReduceInto(Data(db), slots);
  sbi.ReduceInto(Data(dbi), slots);
}

// ---------------------------------------------------------------------------------------------------
// CnxBiasGelu(a, b) -> gelu(a + b): the first Linear's bias and exact (erf) GELU, as torch.nn.GELU().

void BiasGeluCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  TF_Tensor *a = in.Get(0), *b = in.Get(1);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const int64_t c = Last(a), m = c == 0 ? 0 : Count(a) / c;
  if (Count(b) != c) return in.Fail("CnxBiasGelu: bias must have as many values as the last axis");
  TF_Tensor* y = in.Output(0, a);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *pa = Data(a), *pb = Data(b);
  float* py = Data(y);
  GetPool().ParallelFor(m, kRowsPerTask, [=](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; r++) BiasGeluRow(pa + r * c, pb, py + r * c, c);
  });
}

// CnxBiasGeluGrad(dy, a, b) -> dh = dy * gelu'(a + b), db = column sums of dh.
void BiasGeluGradCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  TF_Tensor *dy = in.Get(0), *a = in.Get(1), *b = in.Get(2);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const int64_t c = Last(a), m = c == 0 ? 0 : Count(a) / c;
  if (Count(b) != c || Count(dy) != Count(a)) return in.Fail("CnxBiasGeluGrad: shape mismatch");
  TF_Tensor* dh = in.Output(0, a);
  TF_Tensor* db = in.Output(1, {c});
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *pdy = Data(dy), *pa = Data(a), *pb = Data(b);
  float* pdh = Data(dh);
  const int slots = GetPool().slots();
  ColumnSums sb(slots, c);
  GetPool().ParallelFor(m, kRowsPerTask, [=, &sb](int64_t r0, int64_t r1, int t) {
    float* ab = sb.For(t);
    for (int64_t r = r0; r < r1; r++) BiasGeluGradRow(pdy + r * c, pa + r * c, pb, pdh + r * c, ab, c);
  });
  sb.ReduceInto(Data(db), slots);
}

// ---------------------------------------------------------------------------------------------------
// CnxScaleResidual(x, o, b, gamma, s) -> x + s[n] * gamma * (o + b): the second Linear's bias, layer
// scale, stochastic depth (s = per-sample keep mask / keep probability) and the residual add in one
// pass. x and o are [N, ..., C]; s has N values.

void ScaleResidualCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  TF_Tensor *x = in.Get(0), *o = in.Get(1), *b = in.Get(2), *g = in.Get(3), *s = in.Get(4);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const int64_t c = Last(x), m = c == 0 ? 0 : Count(x) / c, n = Count(s);
  if (Count(o) != Count(x) || Count(b) != c || Count(g) != c || n == 0 || m % n != 0) {
    return in.Fail("CnxScaleResidual: shape mismatch");
  }
  const int64_t rows_per_sample = m / n;
  TF_Tensor* y = in.Output(0, x);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *px = Data(x), *po = Data(o), *pb = Data(b), *pg = Data(g), *ps = Data(s);
  float* py = Data(y);
  GetPool().ParallelFor(m, kRowsPerTask, [=](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; r++) ScaleResidualRow(px + r * c, po + r * c, pb, pg, ps[r / rows_per_sample], py + r * c, c);
  });
}

// CnxScaleResidualGrad(dy, o, b, gamma, s) -> do = dy * s * gamma, db = sum(do), dgamma = sum(dy * s * (o + b)).
void ScaleResidualGradCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  TF_Tensor *dy = in.Get(0), *o = in.Get(1), *b = in.Get(2), *g = in.Get(3), *s = in.Get(4);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const int64_t c = Last(o), m = c == 0 ? 0 : Count(o) / c, n = Count(s);
  if (Count(dy) != Count(o) || Count(b) != c || Count(g) != c || n == 0 || m % n != 0) {
    return in.Fail("CnxScaleResidualGrad: shape mismatch");
  }
  const int64_t rows_per_sample = m / n;
  TF_Tensor* dout = in.Output(0, o);
  TF_Tensor* db = in.Output(1, {c});
  TF_Tensor* dg = in.Output(2, {c});
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *pdy = Data(dy), *po = Data(o), *pb = Data(b), *pg = Data(g), *ps = Data(s);
  float* pdo = Data(dout);
  const int slots = GetPool().slots();
  ColumnSums sb(slots, c), sg(slots, c);
  GetPool().ParallelFor(m, kRowsPerTask, [=, &sb, &sg](int64_t r0, int64_t r1, int t) {
    float *ab = sb.For(t), *ag = sg.For(t);
    for (int64_t r = r0; r < r1; r++) {
      ScaleResidualGradRow(pdy + r * c, po + r * c, pb, pg, ps[r / rows_per_sample], pdo + r * c, ab, ag, c);
    }
  });
  sb.ReduceInto(Data(db), slots);
  sg.ReduceInto(Data(dg), slots);
}

// ---------------------------------------------------------------------------------------------------
// CnxFlatConcat(t: N tensors) -> flat: every tensor's values, in order, as one vector (the optimizers' flat
// gradient). tf.concat needs each tensor reshaped to 1-D first: ~150 op calls for a small model.

void FlatConcatCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  const int n = TF_NumInputs(ctx);
  std::vector<const float*> src(n);
  std::vector<int64_t> offset(n + 1, 0);
  for (int i = 0; i < n; i++) {
    TF_Tensor* t = in.Get(i);
    if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
    src[i] = Data(t);
    offset[i + 1] = offset[i] + Count(t);
  }
  float* out = Data(in.Output(0, {offset[n]}));
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  GetPool().ParallelFor(n, 1, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; i++) std::memcpy(out + offset[i], src[i], (offset[i + 1] - offset[i]) * sizeof(float));
  });
}

// ---------------------------------------------------------------------------------------------------
// CnxAdamW(p: N tensors, g, m, v, coef [N, 2], hyper [4]) -> (p': N tensors, m', v'): one step of
// torch.optim.AdamW over every parameter in a single pass. g, m and v are flat over the parameters in
// order; coef holds each parameter's decay factor 1 - lr * lr_scale * wd and step size
// lr * lr_scale / (1 - beta1^t); hyper is (beta1, beta2, eps, sqrt(1 - beta2^t)). Composed from
// TensorFlow ops the same step is ~12 passes over the flat vectors plus a concat and a split of the
// parameters: a quarter of a small model's training step on 2 cores.

constexpr int64_t kElemsPerTask = 1 << 15;

void AdamWCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  const int n = TF_NumInputs(ctx) - 5;
  if (n < 1) return in.Fail("CnxAdamW: no parameters");
  std::vector<TF_Tensor*> p(n);
  for (int i = 0; i < n; i++) p[i] = in.Get(i);
  TF_Tensor *g = in.Get(n), *m = in.Get(n + 1), *v = in.Get(n + 2), *coef = in.Get(n + 3), *hyper = in.Get(n + 4);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  std::vector<int64_t> offset(n + 1, 0);
  for (int i = 0; i < n; i++) offset[i + 1] = offset[i] + Count(p[i]);
  const int64_t total = offset[n];
  if (Count(g) != total || Count(m) != total || Count(v) != total || Count(coef) != 2 * n || Count(hyper) != 4) {
    return in.Fail("CnxAdamW: g, m and v must be flat over all parameters, coef [N, 2], hyper [4]");
  }
  std::vector<const float*> src(n);
  std::vector<float*> dst(n);
  for (int i = 0; i < n; i++) {
    src[i] = Data(p[i]);
    dst[i] = Data(in.Output(i, p[i]));
  }
  float* m1 = Data(in.Output(n, m));
  float* v1 = Data(in.Output(n + 1, v));
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *pg = Data(g), *pm = Data(m), *pv = Data(v), *pc = Data(coef), *h = Data(hyper);
  const float b1 = h[0], b2 = h[1], eps = h[2], sqrt_bc2 = h[3];
  GetPool().ParallelFor(total, kElemsPerTask, [&](int64_t e0, int64_t e1, int) {
    int i = static_cast<int>(std::upper_bound(offset.begin(), offset.end(), e0) - offset.begin()) - 1;
    for (int64_t e = e0; e < e1; i++) {
      const int64_t end = std::min(e1, offset[i + 1]);
      const float decay = pc[2 * i], step = pc[2 * i + 1];
      // Indexed by the flat position e; the parameter's own arrays start at offset[i].
      const float* __restrict pp = src[i] - offset[i];
      float* __restrict po = dst[i] - offset[i];
#pragma omp simd
      for (int64_t k = e; k < end; k++) {
        const float gk = pg[k];
        const float mk = b1 * pm[k] + (1.f - b1) * gk;
        const float vk = b2 * pv[k] + (1.f - b2) * gk * gk;
        m1[k] = mk;
        v1[k] = vk;
        po[k] = pp[k] * decay - step * (mk / (std::sqrt(vk) / sqrt_bc2 + eps));
      }
      e = end;
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// The block's k x k depthwise conv ('same' padding, stride 1, NHWC) with its LayerNorm, and its gradients.
// TensorFlow's DepthwiseConv2dNative, its two backward ops and the residual gradient's Add took ~17 of the
// ~100 ms of ConvNeXt-atto's training step at 64 px, batch 64 (bench/op-profile.ts --train). Here each output
// row is summed 4 columns x 16 channels at a time in registers; channel counts that are not a multiple of
// 16 (atto's 40, femto's 48) finish 8 channels at a time, then one at a time.
//   CnxDepthwiseNorm (inference): conv + LayerNorm in one pass, y [rows, C]; it saves nothing.
//   CnxDepthwiseNormTrain: the same, also returning what the backward pass reads: the norm's per-row mean and
//     1/std and the conv output (before the conv bias, which the norm folds in as CnxLayerNorm does).
//   CnxDepthwiseResidualBackward: dx = dy + the conv's input gradient (the conv with the flipped filter; dy is
//     the residual branch's gradient, so the block needs no Add) and the filter gradient, in one pass over rows.
//   CnxDepthwise and CnxDepthwiseBackward: the conv alone and its two gradients.

// rows[i] = row y + i - k/2 of image `img` in `base` (nullptr outside the image): the rows one output row's
// taps read.
inline void TapRows(const float* base, int64_t img, int64_t y, int64_t h, int64_t width, int64_t c, int64_t k,
                    const float** rows) {
  for (int64_t i = 0; i < k; i++) {
    const int64_t yi = y + i - k / 2;
    rows[i] = yi >= 0 && yi < h ? base + (img * h + yi) * width * c : nullptr;
  }
}

// out = init (or 0) + sum over taps (i, j) of rows[i][col + j - p] * kern[i, j] for the kCols output columns
// col = w0 + q, L channels (every pointer already at the first of them). kEdge checks for columns outside
// the image (zeros); interior blocks skip the checks.
template <int L, int kCols, bool kEdge>
inline void DwColumns(const float* const* rows, const float* kern, int64_t k, int64_t w0, int64_t width, int64_t c,
                      const float* init, float* out) {
  using V = typename VecOf<L>::T;
  const int64_t p = k / 2;
  V acc[kCols];
#pragma GCC unroll 8
  for (int q = 0; q < kCols; q++) acc[q] = init ? LoadV<L>(init + (w0 + q) * c) : V{};
  for (int64_t i = 0; i < k; i++) {
    const float* row = rows[i];
    if (!row) continue;
    for (int64_t j = 0; j < k; j++) {
      const V kv = LoadV<L>(kern + (i * k + j) * c);
#pragma GCC unroll 8
      for (int q = 0; q < kCols; q++) {
        const int64_t col = w0 + q + j - p;
        if (kEdge && (col < 0 || col >= width)) continue;
        acc[q] += LoadV<L>(row + col * c) * kv;
      }
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < kCols; q++) StoreV<L>(out + (w0 + q) * c, acc[q]);
}

// Channels [c0, c0 + L) of one output row, every column.
template <int L>
void DwRowBlock(const float* const* rows, const float* kern, int64_t k, int64_t width, int64_t c, int64_t c0,
                const float* init, float* out) {
  const int64_t p = k / 2;
  const float* shifted[64];
  for (int64_t i = 0; i < k; i++) shifted[i] = rows[i] ? rows[i] + c0 : nullptr;
  const float* start = init ? init + c0 : nullptr;
  int64_t w = 0;
  for (; w + 4 <= width; w += 4) {
    if (w >= p && w + 3 + p < width) DwColumns<L, 4, false>(shifted, kern + c0, k, w, width, c, start, out + c0);
    else DwColumns<L, 4, true>(shifted, kern + c0, k, w, width, c, start, out + c0);
  }
  for (; w < width; w++) DwColumns<L, 1, true>(shifted, kern + c0, k, w, width, c, start, out + c0);
}

// One output row of the conv into out [width, C], starting from init [width, C] where given.
void DwRow(const float* const* rows, const float* kern, int64_t k, int64_t width, int64_t c, const float* init,
           float* out) {
  int64_t c0 = 0;
  for (; c0 + 16 <= c; c0 += 16) DwRowBlock<16>(rows, kern, k, width, c, c0, init, out);
  for (; c0 + 8 <= c; c0 += 8) DwRowBlock<8>(rows, kern, k, width, c, c0, init, out);
  const int64_t p = k / 2;
  for (int64_t w = 0; w < width && c0 < c; w++) {
    for (int64_t ch = c0; ch < c; ch++) {
      float s = init ? init[w * c + ch] : 0.f;
      for (int64_t i = 0; i < k; i++) {
        if (!rows[i]) continue;
        for (int64_t j = 0; j < k; j++) {
          const int64_t col = w + j - p;
          if (col >= 0 && col < width) s += rows[i][col * c + ch] * kern[(i * k + j) * c + ch];
        }
      }
      out[w * c + ch] = s;
    }
  }
}

// acc[i, j] += sum over output rows r in [r0, r1) of one image and their columns w of
// x[r + i - p, w + j - p] * dy[r, w], L channels at c0: those rows' share of the filter gradient. Each tap's
// sum stays in registers across the rows (two partial sums keep two multiply-add chains in flight), so small
// maps (4 x 4 under a 7 x 7 kernel) do not pay a load and store of the sum per row.
template <int L>
void FilterGradBlock(const float* x, const float* dy, int64_t r0, int64_t r1, int64_t h, int64_t width, int64_t c,
                     int64_t k, int64_t c0, float* acc) {
  using V = typename VecOf<L>::T;
  const int64_t p = k / 2, y0 = r0 % h;
  for (int64_t i = 0; i < k; i++) {
    // Rows whose input row y + i - p is inside the image.
    const int64_t ra = r0 + std::max<int64_t>(0, p - i - y0), rb = std::min(r1, r0 + h - y0 + p - i);
    if (ra >= rb) continue;
    for (int64_t j = 0; j < k; j++) {
      const int64_t w0 = std::max<int64_t>(0, p - j), w1 = std::min<int64_t>(width, width + p - j);
      if (w0 >= w1) continue;
      V s0{}, s1{};
      for (int64_t r = ra; r < rb; r++) {
        const float* xr = x + (r + i - p) * width * c + c0;
        const float* dr = dy + r * width * c + c0;
        int64_t w = w0;
        for (; w + 2 <= w1; w += 2) {
          s0 += LoadV<L>(xr + (w + j - p) * c) * LoadV<L>(dr + w * c);
          s1 += LoadV<L>(xr + (w + 1 + j - p) * c) * LoadV<L>(dr + (w + 1) * c);
        }
        if (w < w1) s0 += LoadV<L>(xr + (w + j - p) * c) * LoadV<L>(dr + w * c);
      }
      float* a = acc + (i * k + j) * c + c0;
      StoreV<L>(a, LoadV<L>(a) + s0 + s1);
    }
  }
}

// The filter gradient's share of output rows [r0, r1), all of one image, into acc [k, k, C].
void FilterGradRun(const float* x, const float* dy, int64_t r0, int64_t r1, int64_t h, int64_t width, int64_t c,
                   int64_t k, float* acc) {
  int64_t c0 = 0;
  for (; c0 + 16 <= c; c0 += 16) FilterGradBlock<16>(x, dy, r0, r1, h, width, c, k, c0, acc);
  for (; c0 + 8 <= c; c0 += 8) FilterGradBlock<8>(x, dy, r0, r1, h, width, c, k, c0, acc);
  const int64_t p = k / 2;
  for (int64_t r = r0; r < r1 && c0 < c; r++) {
    for (int64_t i = 0; i < k; i++) {
      const int64_t yi = r % h + i - p;
      if (yi < 0 || yi >= h) continue;
      for (int64_t j = 0; j < k; j++) {
        for (int64_t w = std::max<int64_t>(0, p - j); w < std::min<int64_t>(width, width + p - j); w++) {
          for (int64_t ch = c0; ch < c; ch++) {
            acc[(i * k + j) * c + ch] += x[((r + i - p) * width + w + j - p) * c + ch] * dy[(r * width + w) * c + ch];
          }
        }
      }
    }
  }
}

// The filter gradient's share of output rows [r0, r1) (any images) into acc [k, k, C], in runs of up to 16 rows of
// one image (L1/L2-sized) so that each tap's sums stay in registers across a run.
void FilterGradRows(const float* x, const float* dy, int64_t r0, int64_t r1, int64_t h, int64_t width, int64_t c,
                    int64_t k, float* acc) {
  for (int64_t r = r0; r < r1;) {
    const int64_t end = std::min({r1, r + 16, (r / h + 1) * h});
    FilterGradRun(x, dy, r, end, h, width, c, k, acc);
    r = end;
  }
}

// Turns each channel's k x k filter by 180 degrees (the input gradient is the conv with the turned filter).
void FlipTaps(const float* f, int64_t k, int64_t c, float* out) {
  for (int64_t t = 0; t < k * k; t++) std::memcpy(out + t * c, f + (k * k - 1 - t) * c, c * sizeof(float));
}

// Checks x [N, H, W, C] and the filter, [k, k, C, 1] or with `per_sample` one per sample [N, k, k, C], with k odd
// (at most 63); sets the sizes.
bool DepthwiseShapes(Inputs& in, TF_Tensor* x, TF_Tensor* f, const char* name, bool per_sample, int64_t* n,
                     int64_t* h, int64_t* width, int64_t* c, int64_t* k) {
  const char* layout = per_sample ? "[N, k, k, C]" : "[k, k, C, 1]";
  if (TF_NumDims(x) != 4 || TF_NumDims(f) != 4) {
    in.Fail((std::string(name) + ": x must be NHWC and the filter " + layout).c_str());
    return false;
  }
  *n = TF_Dim(x, 0), *h = TF_Dim(x, 1), *width = TF_Dim(x, 2), *c = TF_Dim(x, 3);
  // k is the filter's dims 1-2 per sample, 0-1 shared.
  const int first = per_sample ? 1 : 0;
  *k = TF_Dim(f, first);
  const bool layout_ok =
      per_sample ? TF_Dim(f, 0) == *n && TF_Dim(f, 3) == *c : TF_Dim(f, 2) == *c && TF_Dim(f, 3) == 1;
  if (!layout_ok || TF_Dim(f, first + 1) != *k || *k % 2 != 1 || *k > 63) {
    in.Fail((std::string(name) + ": the filter must be " + layout + " with k odd and at most 63").c_str());
    return false;
  }
  return true;
}

// CnxDepthwiseNorm(x, filter, conv_bias, w, b; eps) -> y, and with `train` (CnxDepthwiseNormTrain) also
// mean, rstd and the conv output.
void DepthwiseNorm(void* kernel, TF_OpKernelContext* ctx, bool train) {
  const float eps = static_cast<NormAttrs*>(kernel)->eps;
  const char* name = train ? "CnxDepthwiseNormTrain" : "CnxDepthwiseNorm";
  Inputs in(ctx);
  TF_Tensor *x = in.Get(0), *f = in.Get(1), *cb = in.Get(2), *w = in.Get(3), *b = in.Get(4);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  int64_t n, h, width, c, k;
  if (!DepthwiseShapes(in, x, f, name, false, &n, &h, &width, &c, &k)) return;
  if (Count(cb) != c || Count(w) != c || Count(b) != c) {
    return in.Fail((std::string(name) + ": the conv bias and the norm's weight and bias must have C values").c_str());
  }
  const int64_t rows = n * h * width;
  float* py = Data(in.Output(0, {rows, c}));
  float *pm = nullptr, *pr = nullptr, *pd = nullptr;
  if (train) {
    pm = Data(in.Output(1, {rows}));
    pr = Data(in.Output(2, {rows}));
    pd = Data(in.Output(3, x));
  }
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *px = Data(x), *pf = Data(f), *pcb = Data(cb), *pw = Data(w), *pb = Data(b);
  GetPool().ParallelFor(n * h, 1, [=](int64_t r0, int64_t r1, int) {
    // Inference convolves into a per-thread row buffer, normalised from there while in cache.
    std::vector<float> buffer(train ? 0 : static_cast<size_t>(width * c));
    const float* taps[64];
    float mean, rstd;
    for (int64_t r = r0; r < r1; r++) {
      TapRows(px, r / h, r % h, h, width, c, k, taps);
      float* conv = train ? pd + r * width * c : buffer.data();
      DwRow(taps, pf, k, width, c, nullptr, conv);
      for (int64_t col = 0; col < width; col++) {
        const int64_t row = r * width + col;
        NormRow(conv + col * c, pcb, pw, pb, py + row * c, c, eps, train ? pm + row : &mean, train ? pr + row : &rstd);
      }
    }
  });
}

void DepthwiseNormCompute(void* kernel, TF_OpKernelContext* ctx) { DepthwiseNorm(kernel, ctx, false); }
void DepthwiseNormTrainCompute(void* kernel, TF_OpKernelContext* ctx) { DepthwiseNorm(kernel, ctx, true); }

// CnxDepthwiseBackward(dconv, x, filter) -> dx, dfilter [k, k, C, 1]; with `residual`
// (CnxDepthwiseResidualBackward(dy, dconv, x, filter)) dx = dy + the conv's input gradient.
void DepthwiseBackward(TF_OpKernelContext* ctx, bool residual) {
  const char* name = residual ? "CnxDepthwiseResidualBackward" : "CnxDepthwiseBackward";
  Inputs in(ctx);
  const int first = residual ? 1 : 0;
  TF_Tensor *dy = residual ? in.Get(0) : nullptr, *dd = in.Get(first), *x = in.Get(first + 1), *f = in.Get(first + 2);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  int64_t n, h, width, c, k;
  if (!DepthwiseShapes(in, x, f, name, false, &n, &h, &width, &c, &k)) return;
  if ((dy && Count(dy) != Count(x)) || Count(dd) != Count(x)) {
    return in.Fail((std::string(name) + ": the gradients must be shaped like x").c_str());
  }
  float* pdx = Data(in.Output(0, x));
  TF_Tensor* df = in.Output(1, {k, k, c, 1});
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *pdy = dy ? Data(dy) : nullptr, *pdd = Data(dd), *px = Data(x), *pf = Data(f);
  std::vector<float> flipped(static_cast<size_t>(k * k * c));
  FlipTaps(pf, k, c, flipped.data());
  const int slots = GetPool().slots();
  ColumnSums acc(slots, k * k * c);
  GetPool().ParallelFor(n * h, 1, [=, &acc, &flipped](int64_t r0, int64_t r1, int t) {
    const float* taps[64];
    for (int64_t r = r0; r < r1; r++) {
      TapRows(pdd, r / h, r % h, h, width, c, k, taps);
      DwRow(taps, flipped.data(), k, width, c, pdy ? pdy + r * width * c : nullptr, pdx + r * width * c);
    }
    FilterGradRows(px, pdd, r0, r1, h, width, c, k, acc.For(t));
  });
  acc.ReduceInto(Data(df), slots);
}

void DepthwiseBackwardCompute(void*, TF_OpKernelContext* ctx) { DepthwiseBackward(ctx, false); }
void DepthwiseResidualBackwardCompute(void*, TF_OpKernelContext* ctx) { DepthwiseBackward(ctx, true); }

// CnxDepthwise(x, filter [k, k, C, 1]) -> y: the conv alone (blocks with attention hooks or other variants, which
// do not fuse it with the norm). With `per_sample`, CnxDepthwisePerSample(x, filter [N, k, k, C]): each sample
// convolved with its own filter (the dynamic conv's attention-mixed kernels); folding the batch into the channels
// for TensorFlow's conv made its filter gradient ~75% of a dynamic-conv model's training step.
void Depthwise(TF_OpKernelContext* ctx, bool per_sample) {
  const char* name = per_sample ? "CnxDepthwisePerSample" : "CnxDepthwise";
  Inputs in(ctx);
  TF_Tensor *x = in.Get(0), *f = in.Get(1);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  int64_t n, h, width, c, k;
  if (!DepthwiseShapes(in, x, f, name, per_sample, &n, &h, &width, &c, &k)) return;
  float* py = Data(in.Output(0, x));
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *px = Data(x), *pf = Data(f);
  const int64_t filter_stride = per_sample ? k * k * c : 0;  // from one sample's filter to the next
  GetPool().ParallelFor(n * h, 1, [=](int64_t r0, int64_t r1, int) {
    const float* taps[64];
    for (int64_t r = r0; r < r1; r++) {
      TapRows(px, r / h, r % h, h, width, c, k, taps);
      DwRow(taps, pf + r / h * filter_stride, k, width, c, nullptr, py + r * width * c);
    }
  });
}

void DepthwiseCompute(void*, TF_OpKernelContext* ctx) { Depthwise(ctx, false); }
void DepthwisePerSampleCompute(void*, TF_OpKernelContext* ctx) { Depthwise(ctx, true); }

// CnxDepthwisePerSampleBackward(dy, x, filter) -> dx, dfilter [N, k, k, C]; one sample per task, so each
// sample's filter gradient is summed by one thread and needs no reduction.
void DepthwisePerSampleBackwardCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  TF_Tensor *dy = in.Get(0), *x = in.Get(1), *f = in.Get(2);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  int64_t n, h, width, c, k;
  if (!DepthwiseShapes(in, x, f, "CnxDepthwisePerSampleBackward", true, &n, &h, &width, &c, &k)) return;
  if (Count(dy) != Count(x)) return in.Fail("CnxDepthwisePerSampleBackward: dy must be shaped like x");
  float* pdx = Data(in.Output(0, x));
  float* pdf = Data(in.Output(1, f));
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *pdy = Data(dy), *px = Data(x), *pf = Data(f);
  const int64_t taps_c = k * k * c;
  GetPool().ParallelFor(n, 1, [=](int64_t i0, int64_t i1, int) {
    std::vector<float> flipped(static_cast<size_t>(taps_c));
    const float* taps[64];
    for (int64_t img = i0; img < i1; img++) {
      FlipTaps(pf + img * taps_c, k, c, flipped.data());
      for (int64_t y = 0; y < h; y++) {
        const int64_t r = img * h + y;
        TapRows(pdy, img, y, h, width, c, k, taps);
        DwRow(taps, flipped.data(), k, width, c, nullptr, pdx + r * width * c);
      }
      float* acc = pdf + img * taps_c;
      std::fill(acc, acc + taps_c, 0.f);
      FilterGradRows(px, pdy, img * h, (img + 1) * h, h, width, c, k, acc);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Inference Linears with their epilogues: CnxLinearGelu(x, wp, b) -> gelu(x w + b) and
// CnxLinearScaleResidual(h, wp, b, gamma, shortcut) -> shortcut + gamma * (h w + b), x [M, K] (any shape
// with K last), N = b's length. wp is w [K, N] in column panels, [ceil(N / 32), K, 32] (zero-padded), laid
// out once per weight by the caller (src/convnext/packed-weights.ts). Why: at batch 1 TensorFlow's MatMul
// (oneDNN's sgemm API, which re-packs w on every call) ran ConvNeXt-T's 36 matmuls at ~1.9 ms each
// against ~1.4 ms for PyTorch's MKL. Reading pre-packed panels sequentially, this kernel keeps 12 x 32
// sums in registers across the whole K loop (per step one broadcast of x per row and two vector
// multiply-adds), and applies bias + GELU or bias + layer scale + residual to each output tile while it is
// in cache, which saves the separate passes of CnxBiasGelu and CnxScaleResidual. Each output is one
// K-ordered sum, so results do not depend on the thread count.

constexpr int64_t kPanel = 32;
constexpr int kMr = 12;
typedef float V16f __attribute__((vector_size(64)));

template <int R>
void MicroKernel(const float* __restrict x, int64_t k_len, const float* __restrict panel, float* __restrict tile) {
  V16f lo[R], hi[R];
  for (int i = 0; i < R; i++) lo[i] = hi[i] = V16f{};
  for (int64_t k = 0; k < k_len; k++) {
    // Panels come from memory at batch 1 (each weight is used once per forward): ask for them early.
    __builtin_prefetch(panel + (k + 16) * kPanel);
    __builtin_prefetch(panel + (k + 16) * kPanel + 16);
    V16f b0, b1;
    std::memcpy(&b0, panel + k * kPanel, sizeof b0);
    std::memcpy(&b1, panel + k * kPanel + 16, sizeof b1);
    for (int i = 0; i < R; i++) {
      const float s = x[i * k_len + k];
      const V16f a = {s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s};  // a splat: one broadcast load
      lo[i] += a * b0;
      hi[i] += a * b1;
    }
  }
  for (int i = 0; i < R; i++) {
    std::memcpy(tile + i * kPanel, &lo[i], sizeof lo[i]);
    std::memcpy(tile + i * kPanel + 16, &hi[i], sizeof hi[i]);
  }
}

using MicroFn = void (*)(const float*, int64_t, const float*, float*);

template <int... R>
constexpr std::array<MicroFn, sizeof...(R)> MicroKernels(std::integer_sequence<int, R...>) {
  return {&MicroKernel<R + 1>...};
}

// MicroKernel<r> for r = 1 .. kMr rows.
const std::array<MicroFn, kMr> kMicro = MicroKernels(std::make_integer_sequence<int, kMr>{});

// x wp for every row and column, handed to `epilogue(tile, row, rows, col, cols)` one tile of <= kMr rows
// x kPanel columns (row stride kPanel) at a time.
template <typename Epilogue>
void Linear(const float* x, const float* wp, int64_t m, int64_t k_len, int64_t n, const Epilogue& epilogue) {
  if (m == 0) return;
  // Tasks are (row block, panel), row-block-major: a thread's run of tasks shares a row block of x, which
  // stays in cache while the panels pass over it. Each block reads all of w again: an x of up to 2 MiB (batch
  // 1) is one block, so w is read once; a larger x goes in blocks of ~256 KiB (L2) of at least 16 x kMr rows.
  const int64_t block = m * k_len <= (1 << 19) ? (m + kMr - 1) / kMr * kMr
                                               : std::max<int64_t>(16 * kMr, 65536 / k_len / kMr * kMr);
  const int64_t blocks = (m + block - 1) / block, panels = (n + kPanel - 1) / kPanel;
  GetPool().ParallelFor(blocks * panels, 1, [&](int64_t t0, int64_t t1, int) {
    alignas(64) float tile[kMr * kPanel];
    for (int64_t t = t0; t < t1; t++) {
      const int64_t r1 = std::min(m, (t / panels + 1) * block), j0 = (t % panels) * kPanel;
      const float* panel = wp + (t % panels) * k_len * kPanel;
      for (int64_t r = (t / panels) * block; r < r1; r += kMr) {
        const int rows = static_cast<int>(std::min<int64_t>(kMr, r1 - r));
        kMicro[rows - 1](x + r * k_len, k_len, panel, tile);
        epilogue(tile, r, rows, j0, std::min(kPanel, n - j0));
      }
    }
  });
}

__attribute__((noinline)) void BiasGeluTile(const float* __restrict a, const float* __restrict b, float* __restrict y,
                                            int64_t cols) {
#pragma omp simd
  for (int64_t j = 0; j < cols; j++) y[j] = Gelu(a[j] + b[j]);
}

__attribute__((noinline)) void ScaleResidualTile(const float* __restrict o, const float* __restrict b,
                                                 const float* __restrict g, const float* __restrict s,
                                                 float* __restrict y, int64_t cols) {
#pragma omp simd
  for (int64_t j = 0; j < cols; j++) y[j] = s[j] + g[j] * (o[j] + b[j]);
}

// Checks x [.., K], wp [ceil(N / 32), K, 32], b [N]; sets m, k_len, n.
bool LinearShapes(Inputs& in, TF_Tensor* x, TF_Tensor* wp, TF_Tensor* b, const char* name, int64_t* m, int64_t* k_len,
                  int64_t* n) {
  *k_len = Last(x);
  *n = Count(b);
  if (*k_len == 0 || *n == 0 || TF_NumDims(wp) != 3 || TF_Dim(wp, 0) != (*n + kPanel - 1) / kPanel ||
      TF_Dim(wp, 1) != *k_len || TF_Dim(wp, 2) != kPanel) {
    in.Fail((std::string(name) + ": wp must be [ceil(N / 32), K, 32] for K the last axis of x and N the bias length").c_str());
    return false;
  }
  *m = Count(x) / *k_len;
  return true;
}

void LinearGeluCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  TF_Tensor *x = in.Get(0), *wp = in.Get(1), *b = in.Get(2);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  int64_t m, k_len, n;
  if (!LinearShapes(in, x, wp, b, "CnxLinearGelu", &m, &k_len, &n)) return;
  TF_Tensor* y = in.Output(0, {m, n});
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float* pb = Data(b);
  float* py = Data(y);
  Linear(Data(x), Data(wp), m, k_len, n, [=](const float* tile, int64_t r, int rows, int64_t j0, int64_t cols) {
    for (int i = 0; i < rows; i++) BiasGeluTile(tile + i * kPanel, pb + j0, py + (r + i) * n + j0, cols);
  });
}

void LinearScaleResidualCompute(void*, TF_OpKernelContext* ctx) {
  Inputs in(ctx);
  TF_Tensor *h = in.Get(0), *wp = in.Get(1), *b = in.Get(2), *g = in.Get(3), *shortcut = in.Get(4);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  int64_t m, k_len, n;
  if (!LinearShapes(in, h, wp, b, "CnxLinearScaleResidual", &m, &k_len, &n)) return;
  if (Count(g) != n || Last(shortcut) != n || Count(shortcut) != m * n) {
    return in.Fail("CnxLinearScaleResidual: gamma must have N values and shortcut M x N");
  }
  TF_Tensor* y = in.Output(0, shortcut);
  if (!in.Ok()) return TF_OpKernelContext_Failure(ctx, in.status);
  const float *pb = Data(b), *pg = Data(g), *ps = Data(shortcut);
  float* py = Data(y);
  Linear(Data(h), Data(wp), m, k_len, n, [=](const float* tile, int64_t r, int rows, int64_t j0, int64_t cols) {
    for (int i = 0; i < rows; i++) {
      const int64_t at = (r + i) * n + j0;
      ScaleResidualTile(tile + i * kPanel, pb + j0, pg + j0, ps + at, py + at, cols);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Registration.

bool RegisterOp(const char* name, std::initializer_list<const char*> inputs, std::initializer_list<const char*> outputs,
                std::initializer_list<const char*> attrs, void* (*create)(TF_OpKernelConstruction*),
                void (*compute)(void*, TF_OpKernelContext*), void (*del)(void*), std::string* error) {
  TF_Status* s = TF_NewStatus();
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(name);
  for (const char* i : inputs) TF_OpDefinitionBuilderAddInput(op, i);
  for (const char* o : outputs) TF_OpDefinitionBuilderAddOutput(op, o);
  for (const char* a : attrs) TF_OpDefinitionBuilderAddAttr(op, a);
  TF_RegisterOpDefinition(op, s);
  bool ok = TF_GetCode(s) == TF_OK;
  if (ok) {
    TF_KernelBuilder* kb = TF_NewKernelBuilder(name, "CPU", create, compute, del);
    TF_RegisterKernelBuilder((std::string(name) + "Kernel").c_str(), kb, s);
    ok = TF_GetCode(s) == TF_OK;
  }
  if (!ok) *error = std::string(name) + ": " + TF_Message(s);
  TF_DeleteStatus(s);
  return ok;
}

std::string RegisterAll() {
  std::string error;
  const bool ok =
      RegisterOp("CnxLayerNorm", {"x: float", "w: float", "b: float", "bias_in: float"},
                 {"y: float", "mean: float", "rstd: float"}, {"eps: float = 1e-6"}, NormCreate, LayerNormCompute,
                 NormDelete, &error) &&
      RegisterOp("CnxLayerNormGrad", {"dy: float", "x: float", "w: float", "bias_in: float", "mean: float", "rstd: float"},
                 {"dx: float", "dw: float", "db: float", "dbias_in: float"}, {}, nullptr, LayerNormGradCompute, nullptr,
                 &error) &&
      RegisterOp("CnxBiasGelu", {"a: float", "b: float"}, {"y: float"}, {}, nullptr, BiasGeluCompute, nullptr, &error) &&
      RegisterOp("CnxBiasGeluGrad", {"dy: float", "a: float", "b: float"}, {"dh: float", "db: float"}, {}, nullptr,
                 BiasGeluGradCompute, nullptr, &error) &&
      RegisterOp("CnxScaleResidual", {"x: float", "o: float", "b: float", "gamma: float", "s: float"}, {"y: float"}, {},
                 nullptr, ScaleResidualCompute, nullptr, &error) &&
      RegisterOp("CnxScaleResidualGrad", {"dy: float", "o: float", "b: float", "gamma: float", "s: float"},
                 {"do: float", "db: float", "dgamma: float"}, {}, nullptr, ScaleResidualGradCompute, nullptr, &error) &&
      RegisterOp("CnxFlatConcat", {"t: N * float"}, {"flat: float"}, {"N: int >= 1"}, nullptr, FlatConcatCompute, nullptr,
                 &error) &&
      RegisterOp("CnxAdamW", {"p: N * float", "g: float", "m: float", "v: float", "coef: float", "hyper: float"},
                 {"p_out: N * float", "m_out: float", "v_out: float"}, {"N: int >= 1"}, nullptr, AdamWCompute, nullptr,
                 &error) &&
      RegisterOp("CnxDepthwiseNorm", {"x: float", "filter: float", "conv_bias: float", "w: float", "b: float"},
                 {"y: float"}, {"eps: float = 1e-6"}, NormCreate, DepthwiseNormCompute, NormDelete, &error) &&
      RegisterOp("CnxDepthwiseNormTrain", {"x: float", "filter: float", "conv_bias: float", "w: float", "b: float"},
                 {"y: float", "mean: float", "rstd: float", "conv: float"}, {"eps: float = 1e-6"}, NormCreate,
                 DepthwiseNormTrainCompute, NormDelete, &error) &&
      RegisterOp("CnxDepthwise", {"x: float", "filter: float"}, {"y: float"}, {}, nullptr, DepthwiseCompute, nullptr,
                 &error) &&
      RegisterOp("CnxDepthwiseBackward", {"dconv: float", "x: float", "filter: float"}, {"dx: float", "dfilter: float"}, {},
                 nullptr, DepthwiseBackwardCompute, nullptr, &error) &&
      RegisterOp("CnxDepthwiseResidualBackward", {"dy: float", "dconv: float", "x: float", "filter: float"},
                 {"dx: float", "dfilter: float"}, {}, nullptr, DepthwiseResidualBackwardCompute, nullptr, &error) &&
      RegisterOp("CnxDepthwisePerSample", {"x: float", "filter: float"}, {"y: float"}, {}, nullptr,
                 DepthwisePerSampleCompute, nullptr, &error) &&
      RegisterOp("CnxDepthwisePerSampleBackward", {"dy: float", "x: float", "filter: float"}, {"dx: float", "dfilter: float"},
                 {}, nullptr, DepthwisePerSampleBackwardCompute, nullptr, &error) &&
      RegisterOp("CnxLinearGelu", {"x: float", "wp: float", "b: float"}, {"y: float"}, {}, nullptr, LinearGeluCompute,
                 nullptr, &error) &&
      RegisterOp("CnxLinearScaleResidual", {"h: float", "wp: float", "b: float", "gamma: float", "shortcut: float"},
                 {"y: float"}, {}, nullptr, LinearScaleResidualCompute, nullptr, &error);
  return ok ? "" : error;
}

}  // namespace

NAPI_MODULE_INIT() {
  // Ops register once per process, however many times the addon is required.
  static const std::string error = RegisterAll();
  napi_value result;
  napi_create_object(env, &result);
  napi_value err, threads;
  napi_create_string_utf8(env, error.c_str(), error.size(), &err);
  napi_set_named_property(env, result, "error", err);
  napi_create_int32(env, GetPool().threads(), &threads);
  napi_set_named_property(env, result, "threads", threads);
  // The Linear kernels' 12 x 32 register tile needs AVX-512's 32 registers of 16 floats: an AVX2 build of
  // it ran 25x slower than here, so there the block keeps TensorFlow's MatMul.
#ifdef __AVX512F__
  const bool packed_linear = true;
#else
  const bool packed_linear = false;
#endif
  napi_value linear;
  napi_get_boolean(env, packed_linear, &linear);
  napi_set_named_property(env, result, "packedLinear", linear);
  return result;
}

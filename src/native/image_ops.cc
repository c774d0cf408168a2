// Image kernels for the input pipeline, as a plain Node-API addon (no TensorFlow), so DataLoader worker
// threads can load it too. Why: on 2 cores every millisecond the loader spends is taken from the training
// step; at 64 px, RandomResizedCrop's bicubic resample in JavaScript alone took ~0.8 ms of the ~1.5 ms per
// training image. Each kernel gives the bytes of its JavaScript version, which stays as the fallback.
//
// resizeBox is src/augment/resample.ts's resizeBox: PIL's algorithm for 8-bit images (double-precision
// filter weights rounded to 22-bit fixed point, integer sums, horizontal pass first into 8 bits). Integer
// sums do not depend on their order, so the loops are free to run over many rows at once.
//
// warpAffine (affine.ts, PIL's Image.transform(AFFINE)) and mixPairs (mixup.ts) repeat the JavaScript
// double arithmetic step for step; the addon is built with -ffp-contract=off, since fused multiply-adds
// round differently. normalize (collate.ts) and hflip (color.ts) only move or look up values.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr int kPrecisionBits = 22;  // PIL's PRECISION_BITS: 32 - 8 - 2, so sums fit an int32
constexpr int32_t kOne = 1 << kPrecisionBits;
constexpr int64_t kLanes = 16;
typedef int32_t V16 __attribute__((vector_size(kLanes * sizeof(int32_t))));

struct Weights {
  std::vector<int32_t> start, count, w;
  int64_t max_taps;
};

double Kernel(bool bicubic, double x) {
  x = std::fabs(x);
  if (!bicubic) return x < 1 ? 1 - x : 0;
  const double a = -0.5;  // Keys cubic, as PIL's BICUBIC
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

// resample.ts's axisWeights: PIL's precompute_coeffs + normalize_coeffs_8bpc, relative to the box.
Weights AxisWeights(int64_t size, double lo, double span, int64_t out, bool bicubic) {
  const double scale = span / static_cast<double>(out);
  const double filter_scale = std::max(scale, 1.0);
  const double radius = (bicubic ? 2 : 1) * filter_scale;
  const double inv = 1 / filter_scale;
  const double base = std::floor(lo);
  const double offset = lo - base;
  const double limit = std::min(static_cast<double>(size), std::ceil(lo + span)) - base;
  Weights r;
  r.max_taps = static_cast<int64_t>(std::ceil(radius)) * 2 + 1;
  r.start.resize(out);
  r.count.resize(out);
  r.w.assign(out * r.max_taps, 0);
  std::vector<double> k(r.max_taps);
  for (int64_t i = 0; i < out; i++) {
    const double centre = offset + (static_cast<double>(i) + 0.5) * scale;
    const int64_t x0 = static_cast<int64_t>(std::max(0.0, std::floor(centre - radius + 0.5)));
    const int64_t x1 = static_cast<int64_t>(std::min(limit, std::floor(centre + radius + 0.5)));
    double total = 0;
    for (int64_t x = x0; x < x1; x++) {
      k[x - x0] = Kernel(bicubic, (static_cast<double>(x) - centre + 0.5) * inv);
      total += k[x - x0];
    }
    for (int64_t x = 0; x < x1 - x0; x++) {
      const double v = total != 0 ? k[x] / total : k[x];
      r.w[i * r.max_taps + x] = static_cast<int32_t>(v < 0 ? -0.5 + v * kOne : 0.5 + v * kOne);
    }
    r.start[i] = static_cast<int32_t>(base) + static_cast<int32_t>(x0);
    r.count[i] = static_cast<int32_t>(std::max<int64_t>(0, x1 - x0));
  }
  return r;
}

// PIL's clip8 of a fixed-point sum that already holds its rounding half.
inline uint8_t Clip8(int32_t v) { return static_cast<uint8_t>(std::min(std::max(v >> kPrecisionBits, 0), 255)); }

void ResizeBox(const uint8_t* image, int64_t width, int64_t height, int64_t out_h, int64_t out_w, bool bicubic,
               double top, double left, double box_h, double box_w, uint8_t* out) {
  const Weights wx = AxisWeights(width, left, box_w, out_w, bicubic);
  const Weights wy = AxisWeights(height, top, box_h, out_h, bicubic);
  const int64_t row_lo = wy.start[0];
  const int64_t rows = std::max<int64_t>(0, wy.start[out_h - 1] + wy.count[out_h - 1] - row_lo);
  const int64_t row_len = out_w * 3;
  // Horizontal pass into 8 bits, kLanes source rows at once: the source columns it reads are copied
  // column-major (col[(x * 3 + channel) * padded_rows + row]), so each tap is one vector multiply-add.
  int64_t x_lo = width, x_hi = 0;
  for (int64_t i = 0; i < out_w; i++) {
    if (wx.count[i] == 0) continue;
    x_lo = std::min<int64_t>(x_lo, wx.start[i]);
    x_hi = std::max<int64_t>(x_hi, wx.start[i] + wx.count[i]);
  }
  const int64_t span = std::max<int64_t>(0, x_hi - x_lo) * 3;
  const int64_t padded_rows = (rows + kLanes - 1) / kLanes * kLanes;
  std::vector<int32_t> col(span * padded_rows, 0);
  for (int64_t y = 0; y < rows; y += kLanes) {
    // A block of rows read in step, one whole vector written per element (row by row, the writes thrashed).
    const int64_t n = std::min(kLanes, rows - y);
    for (int64_t e = 0; e < span; e++) {
      int32_t* dst = col.data() + e * padded_rows + y;
      for (int64_t q = 0; q < n; q++) dst[q] = image[((row_lo + y + q) * width + x_lo) * 3 + e];
    }
  }
  std::vector<uint8_t> tmp(rows * row_len);
  for (int64_t i = 0; i < out_w; i++) {
    const int32_t* w = wx.w.data() + i * wx.max_taps;
    for (int64_t ch = 0; ch < 3; ch++) {
      const int32_t* c0 = col.data() + ((wx.start[i] - x_lo) * 3 + ch) * padded_rows;
      for (int64_t y = 0; y < rows; y += kLanes) {
        V16 acc = V16{} + kOne / 2;
        for (int32_t k = 0; k < wx.count[i]; k++) {
          V16 v;
          std::memcpy(&v, c0 + k * 3 * padded_rows + y, sizeof v);
          acc += w[k] * v;
        }
        for (int64_t q = 0; q < std::min(kLanes, rows - y); q++) tmp[(y + q) * row_len + i * 3 + ch] = Clip8(acc[q]);
      }
    }
  }
  // Vertical pass row by row over whole intermediate rows, so memory is read sequentially.
  std::vector<int32_t> acc(row_len);
  for (int64_t j = 0; j < out_h; j++) {
    const uint8_t* s = tmp.data() + (wy.start[j] - row_lo) * row_len;
    const int32_t* w = wy.w.data() + j * wy.max_taps;
    std::fill(acc.begin(), acc.end(), kOne / 2);
    for (int32_t k = 0; k < wy.count[j]; k++) {
      const uint8_t* r = s + k * row_len;
      for (int64_t c = 0; c < row_len; c++) acc[c] += w[k] * r[c];
    }
    uint8_t* o = out + j * row_len;
    for (int64_t c = 0; c < row_len; c++) o[c] = Clip8(acc[c]);
  }
}

void WarpAffine(const uint8_t* image, int64_t height, int64_t width, const double* m, const uint8_t* fill,
                bool bilinear, uint8_t* out) {
  const double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  const double H = static_cast<double>(height), W = static_cast<double>(width);
  for (int64_t y = 0; y < height; y++) {
    const double yc = static_cast<double>(y) + 0.5;
    const double x_row = b * yc + c;
    const double y_row = e * yc + f;
    uint8_t* o = out + y * width * 3;
    for (int64_t x = 0; x < width; x++, o += 3) {
      const double xs = a * (static_cast<double>(x) + 0.5) + x_row;
      const double ys = d * (static_cast<double>(x) + 0.5) + y_row;
      if (xs < 0 || ys < 0 || xs >= W || ys >= H) {
        o[0] = fill[0], o[1] = fill[1], o[2] = fill[2];
        continue;
      }
      if (!bilinear) {
        const uint8_t* p = image + (static_cast<int64_t>(ys) * width + static_cast<int64_t>(xs)) * 3;
        o[0] = p[0], o[1] = p[1], o[2] = p[2];
        continue;
      }
      const double fx = xs - 0.5, fy = ys - 0.5;
      const double x0 = std::floor(fx), y0 = std::floor(fy);
      const double tx = fx - x0, ty = fy - y0;
      const int64_t xa = x0 < 0 ? 0 : static_cast<int64_t>(x0);
      const int64_t xb = x0 + 1 >= W ? width - 1 : static_cast<int64_t>(x0) + 1;
      const int64_t ya = y0 < 0 ? 0 : static_cast<int64_t>(y0);
      const int64_t yb = y0 + 1 >= H ? height - 1 : static_cast<int64_t>(y0) + 1;
      const uint8_t* p00 = image + (ya * width + xa) * 3;
      const uint8_t* p01 = image + (ya * width + xb) * 3;
      const uint8_t* p10 = image + (yb * width + xa) * 3;
      const uint8_t* p11 = image + (yb * width + xb) * 3;
      for (int ch = 0; ch < 3; ch++) {
        const double top = p00[ch] + (p01[ch] - p00[ch]) * tx;
        const double bot = p10[ch] + (p11[ch] - p10[ch]) * tx;
        o[ch] = static_cast<uint8_t>(top + (bot - top) * ty);
      }
    }
  }
}

// collate's normalisation of one HWC image: out[p] = lut[channel * 256 + src[p]], lut holding collate.ts's
// float32s, so the values are the same by construction.
void Normalize(const uint8_t* src, int64_t n, const float* lut, float* out) {
  for (int64_t p = 0; p + 2 < n; p += 3) {
    out[p] = lut[src[p]];
    out[p + 1] = lut[256 + src[p + 1]];
    out[p + 2] = lut[512 + src[p + 2]];
  }
}

void Hflip(const uint8_t* src, int64_t height, int64_t width, uint8_t* out) {
  for (int64_t y = 0; y < height; y++) {
    const uint8_t* s = src + y * width * 3;
    uint8_t* d = out + y * width * 3 + (width - 1) * 3;
    for (int64_t x = 0; x < width; x++, s += 3, d -= 3) d[0] = s[0], d[1] = s[1], d[2] = s[2];
  }
}

// mixup.ts's applyMix blend: images b and batch-1-b mixed with each other, in double as JavaScript does.
void MixPairs(float* x, int64_t batch, int64_t image_size, double lam) {
  for (int64_t b = 0; b < batch / 2; b++) {
    float* p = x + b * image_size;
    float* q = x + (batch - 1 - b) * image_size;
    for (int64_t i = 0; i < image_size; i++) {
      const double u = p[i], v = q[i];
      p[i] = static_cast<float>(lam * u + (1 - lam) * v);
      q[i] = static_cast<float>(lam * v + (1 - lam) * u);
    }
  }
}

napi_value Throw(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

// The arguments of a call, the typed arrays among them read by Array and the numbers by Number; each
// returns false (with an exception pending) on a wrong type. Sizes and values are checked in TypeScript.
struct Args {
  napi_env env;
  const char* name;
  napi_value argv[12];
  size_t argc = 12;

  Args(napi_env e, napi_callback_info info, const char* n) : env(e), name(n) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }
  bool Fail(const char* what) {
    std::string m = std::string(name) + ": " + what;
    napi_throw_type_error(env, nullptr, m.c_str());
    return false;
  }
  bool Count(size_t n) { return argc == n || Fail("wrong number of arguments"); }
  template <typename T>
  bool Array(size_t i, napi_typedarray_type want, T** data, size_t* len) {
    napi_typedarray_type type;
    napi_value buffer;
    size_t offset;
    void* p;
    if (napi_get_typedarray_info(env, argv[i], &type, len, &p, &buffer, &offset) != napi_ok || type != want) {
      return Fail("expected a typed array of the documented type");
    }
    *data = static_cast<T*>(p);
    return true;
  }
  bool Number(size_t i, double* v) { return napi_get_value_double(env, argv[i], v) == napi_ok || Fail("expected a number"); }
  bool Bool(size_t i, bool* v) { return napi_get_value_bool(env, argv[i], v) == napi_ok || Fail("expected a boolean"); }
};

// Element counts are checked again here, where a mistake would read or write out of bounds.
bool Fits(size_t len, double need) { return static_cast<double>(len) >= need; }

// resizeBox(src: Uint8Array, height, width, outHeight, outWidth, bicubic, top, left, boxHeight, boxWidth,
// out: Uint8Array): fills out (outHeight x outWidth x 3).
napi_value ResizeBoxJs(napi_env env, napi_callback_info info) {
  Args a(env, info, "resizeBox");
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  double v[9];
  bool bicubic = false;
  if (!a.Count(11) || !a.Array(0, napi_uint8_array, &src, &src_len) || !a.Array(10, napi_uint8_array, &dst, &dst_len)) {
    return nullptr;
  }
  for (int i = 0; i < 9; i++) {
    if (!(i == 4 ? a.Bool(5, &bicubic) : a.Number(i + 1, &v[i]))) return nullptr;
  }
  const int64_t height = static_cast<int64_t>(v[0]), width = static_cast<int64_t>(v[1]);
  const int64_t out_h = static_cast<int64_t>(v[2]), out_w = static_cast<int64_t>(v[3]);
  if (!Fits(src_len, v[0] * v[1] * 3) || !Fits(dst_len, v[2] * v[3] * 3) || out_h < 1 || out_w < 1) {
    return Throw(env, "resizeBox: buffer sizes do not match the image sizes");
  }
  ResizeBox(src, width, height, out_h, out_w, bicubic, v[5], v[6], v[7], v[8], dst);
  return nullptr;
}

// warpAffine(src: Uint8Array, height, width, params: Float64Array [a..f, fill r, g, b], bilinear,
// out: Uint8Array): fills out (height x width x 3).
napi_value WarpAffineJs(napi_env env, napi_callback_info info) {
  Args a(env, info, "warpAffine");
  uint8_t *src, *dst;
  double* params;
  size_t src_len, params_len, dst_len;
  double height, width;
  bool bilinear = false;
  if (!a.Count(6) || !a.Array(0, napi_uint8_array, &src, &src_len) || !a.Number(1, &height) || !a.Number(2, &width) ||
      !a.Array(3, napi_float64_array, &params, &params_len) || !a.Bool(4, &bilinear) ||
      !a.Array(5, napi_uint8_array, &dst, &dst_len)) {
    return nullptr;
  }
  if (height < 1 || width < 1 || params_len != 9 || !Fits(src_len, height * width * 3) || !Fits(dst_len, height * width * 3)) {
    return Throw(env, "warpAffine: buffer sizes do not match the image size");
  }
  const uint8_t fill[3] = {static_cast<uint8_t>(params[6]), static_cast<uint8_t>(params[7]), static_cast<uint8_t>(params[8])};
  WarpAffine(src, static_cast<int64_t>(height), static_cast<int64_t>(width), params, fill, bilinear, dst);
  return nullptr;
}

// normalize(src: Uint8Array, lut: Float32Array(768), out: Float32Array, offset): out[offset + p] from src[p].
napi_value NormalizeJs(napi_env env, napi_callback_info info) {
  Args a(env, info, "normalize");
  uint8_t* src;
  float *lut, *dst;
  size_t src_len, lut_len, dst_len;
  double offset;
  if (!a.Count(4) || !a.Array(0, napi_uint8_array, &src, &src_len) || !a.Array(1, napi_float32_array, &lut, &lut_len) ||
      !a.Array(2, napi_float32_array, &dst, &dst_len) || !a.Number(3, &offset)) {
    return nullptr;
  }
  if (lut_len != 768 || offset < 0 || !Fits(dst_len, offset + static_cast<double>(src_len))) {
    return Throw(env, "normalize: buffer sizes do not match");
  }
  Normalize(src, static_cast<int64_t>(src_len), lut, dst + static_cast<int64_t>(offset));
  return nullptr;
}

// hflip(src: Uint8Array, height, width, out: Uint8Array).
napi_value HflipJs(napi_env env, napi_callback_info info) {
  Args a(env, info, "hflip");
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  double height, width;
  if (!a.Count(4) || !a.Array(0, napi_uint8_array, &src, &src_len) || !a.Number(1, &height) || !a.Number(2, &width) ||
      !a.Array(3, napi_uint8_array, &dst, &dst_len)) {
    return nullptr;
  }
  if (height < 0 || width < 0 || !Fits(src_len, height * width * 3) || !Fits(dst_len, height * width * 3)) {
    return Throw(env, "hflip: buffer sizes do not match the image size");
  }
  Hflip(src, static_cast<int64_t>(height), static_cast<int64_t>(width), dst);
  return nullptr;
}

// mixPairs(x: Float32Array, batch, lam): x is batch images of x.length / batch values each.
napi_value MixPairsJs(napi_env env, napi_callback_info info) {
  Args a(env, info, "mixPairs");
  float* x;
  size_t len;
  double batch, lam;
  if (!a.Count(3) || !a.Array(0, napi_float32_array, &x, &len) || !a.Number(1, &batch) || !a.Number(2, &lam)) {
    return nullptr;
  }
  if (batch < 1) return Throw(env, "mixPairs: batch must be positive");
  const int64_t b = static_cast<int64_t>(batch);
  MixPairs(x, b, static_cast<int64_t>(len) / b, lam);
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value result;
  napi_create_object(env, &result);
  const std::pair<const char*, napi_callback> fns[] = {
      {"resizeBox", ResizeBoxJs}, {"warpAffine", WarpAffineJs}, {"normalize", NormalizeJs},
      {"hflip", HflipJs},         {"mixPairs", MixPairsJs},
  };
  for (const auto& [name, cb] : fns) {
    napi_value fn;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
    napi_set_named_property(env, result, name, fn);
  }
  return result;
}

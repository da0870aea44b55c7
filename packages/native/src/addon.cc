// Node-API bindings of the kernels. Every function takes Float32Arrays (inputs, then zero-filled
// outputs) plus an Int32Array of dimensions, checks that the array lengths match the dimensions
// (a mismatch would otherwise read or write out of bounds) and runs the kernel synchronously.
#include <node_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "denormals.h"
#include "kernels.h"
#include "parallel.h"

namespace mwt {
namespace {

class ArgumentError {
 public:
  explicit ArgumentError(std::string message) : message(std::move(message)) {}
  std::string message;
};

struct Call {
  napi_env env;
  std::vector<napi_value> args;

  Call(napi_env e, napi_callback_info info, size_t expected) : env(e), args(expected) {
    size_t count = expected;
    napi_get_cb_info(env, info, &count, args.data(), nullptr, nullptr);
    if (count < expected) throw ArgumentError("expected " + std::to_string(expected) + " arguments");
  }

  template <typename T>
  T* typed(size_t i, napi_typedarray_type want, int64_t length, const char* what) {
    bool isTyped = false;
    napi_is_typedarray(env, args[i], &isTyped);
    if (!isTyped) throw ArgumentError(std::string(what) + " must be a typed array");
    napi_typedarray_type type;
    size_t size;
    void* data;
    napi_get_typedarray_info(env, args[i], &type, &size, &data, nullptr, nullptr);
    if (type != want) throw ArgumentError(std::string(what) + " has the wrong element type");
    if (length >= 0 && static_cast<int64_t>(size) != length) {
      throw ArgumentError(std::string(what) + " has " + std::to_string(size) + " elements, expected " + std::to_string(length));
    }
    return static_cast<T*>(data);
  }

  float* floats(size_t i, int64_t length, const char* what) { return typed<float>(i, napi_float32_array, length, what); }

  // A Float32Array, or null for an absent optional input.
  float* optionalFloats(size_t i, int64_t length, const char* what) {
    napi_valuetype type;
    napi_typeof(env, args[i], &type);
    return type == napi_null || type == napi_undefined ? nullptr : floats(i, length, what);
  }

  std::vector<int> ints(size_t i, size_t count, const char* what) {
    const int32_t* data = typed<int32_t>(i, napi_int32_array, static_cast<int64_t>(count), what);
    return std::vector<int>(data, data + count);
  }

  double number(size_t i) {
    double value = 0;
    if (napi_get_value_double(env, args[i], &value) != napi_ok) throw ArgumentError("argument " + std::to_string(i) + " must be a number");
    return value;
  }

  bool flag(size_t i) {
    bool value = false;
    if (napi_get_value_bool(env, args[i], &value) != napi_ok) throw ArgumentError("argument " + std::to_string(i) + " must be a boolean");
    return value;
  }
};

ConvGeometry geometry(Call& call, size_t i) {
  const std::vector<int> d = call.ints(i, 15, "geometry");
  ConvGeometry g{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14]};
  for (int v : d) if (v < 0) throw ArgumentError("geometry values must be >= 0");
  if (g.strideH < 1 || g.strideW < 1 || g.dilationH < 1 || g.dilationW < 1) throw ArgumentError("strides and dilations must be >= 1");
  return g;
}

int64_t inputSize(const ConvGeometry& g) { return static_cast<int64_t>(g.batch) * g.inH * g.inW * g.inC; }
int64_t outputSize(const ConvGeometry& g) { return static_cast<int64_t>(g.batch) * g.outH * g.outW * g.outC; }
int64_t filterSize(const ConvGeometry& g) { return static_cast<int64_t>(g.kH) * g.kW * g.inC * g.outC; }

template <typename Body>
napi_value guarded(napi_env env, Body&& body) {
  try {
    const FlushDenormals flush;
    body();
  } catch (const ArgumentError& error) {
    napi_throw_range_error(env, nullptr, ("mwt-native: " + error.message).c_str());
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, nullptr, "mwt-native: out of memory");
  }
  return nullptr;
}

// The kernels over two input arrays and one output array, each sized by the conv geometry.
enum class Extent { kInput, kOutput, kFilter };
using GeometryKernel = void (*)(const float*, const float*, float*, const ConvGeometry&);

int64_t sizeOf(Extent extent, const ConvGeometry& g) {
  switch (extent) {
    case Extent::kInput: return inputSize(g);
    case Extent::kOutput: return outputSize(g);
    case Extent::kFilter: return filterSize(g);
  }
  return 0;
}

struct GeometryBinding {
  GeometryKernel kernel;
  Extent extents[3];
  const char* names[3];
};

napi_value runGeometryKernel(napi_env env, napi_callback_info info, const GeometryBinding& b) {
  return guarded(env, [&] {
    Call c(env, info, 4);
    const ConvGeometry g = geometry(c, 3);
    b.kernel(c.floats(0, sizeOf(b.extents[0], g), b.names[0]), c.floats(1, sizeOf(b.extents[1], g), b.names[1]),
             c.floats(2, sizeOf(b.extents[2], g), b.names[2]), g);
  });
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  return runGeometryKernel(env, info, {conv2d, {Extent::kInput, Extent::kFilter, Extent::kOutput}, {"x", "filter", "out"}});
}

napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  return runGeometryKernel(env, info, {conv2dBackpropInput, {Extent::kOutput, Extent::kFilter, Extent::kInput}, {"dy", "filter", "dx"}});
}

napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  return runGeometryKernel(env, info, {conv2dBackpropFilter, {Extent::kInput, Extent::kOutput, Extent::kFilter}, {"x", "dy", "dFilter"}});
}

napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return runGeometryKernel(env, info, {maxPoolGrad, {Extent::kOutput, Extent::kInput, Extent::kInput}, {"dy", "x", "dx"}});
}

napi_value MaxPool(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 3);
    const ConvGeometry g = geometry(c, 2);
    maxPool(c.floats(0, inputSize(g), "x"), c.floats(1, outputSize(g), "out"), g);
  });
}

napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 6);
    const std::vector<int> d = c.ints(4, 8, "shape");
    const MatMulShape s{d[0], d[1], d[2], d[3], d[4], d[5], d[6] != 0, d[7] != 0};
    if (s.batch < 1 || s.m < 0 || s.k < 0 || s.n < 0 || (s.batchA != 1 && s.batchA != s.batch) || (s.batchB != 1 && s.batchB != s.batch)) {
      throw ArgumentError("invalid matmul shape");
    }
    const int act = static_cast<int>(c.number(5));
    if (act != 0 && act != 1) throw ArgumentError("activation must be 0 (linear) or 1 (relu)");
    matMul(c.floats(0, static_cast<int64_t>(s.batchA) * s.m * s.k, "a"), c.floats(1, static_cast<int64_t>(s.batchB) * s.k * s.n, "b"),
           c.optionalFloats(2, s.n, "bias"), c.floats(3, static_cast<int64_t>(s.batch) * s.m * s.n, "c"), s, static_cast<Activation>(act));
  });
}

BatchNormShape batchNormShape(Call& c, size_t shapeArg, size_t epsilonArg) {
  const std::vector<int> d = c.ints(shapeArg, 4, "shape");
  if (d[0] < 1 || d[1] < 1 || d[2] < 1) throw ArgumentError("batch norm needs a non-empty [batch, pixels, channels]");
  return BatchNormShape{d[0], d[1], d[2], d[3] != 0, static_cast<float>(c.number(epsilonArg))};
}

napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 9);
    const BatchNormShape s = batchNormShape(c, 7, 8);
    const int64_t size = static_cast<int64_t>(s.batch) * s.pixels * s.channels;
    batchNormTrain(c.floats(0, size, "z"), c.floats(1, s.channels, "gamma"), c.floats(2, s.channels, "beta"),
                   c.optionalFloats(3, static_cast<int64_t>(s.batch) * s.channels, "mask"), c.floats(4, size, "out"),
                   c.floats(5, s.channels, "mean"), c.floats(6, s.channels, "variance"), s);
  });
}

napi_value BatchNormInference(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 8);
    const std::vector<int> d = c.ints(6, 2, "shape");
    if (d[0] < 1 || d[1] < 1) throw ArgumentError("batch norm needs a non-empty [rows, channels]");
    const int64_t size = static_cast<int64_t>(d[0]) * d[1];
    batchNormInference(c.floats(0, size, "x"), c.floats(1, d[1], "mean"), c.floats(2, d[1], "variance"), c.optionalFloats(3, d[1], "offset"),
                       c.optionalFloats(4, d[1], "scale"), c.floats(5, size, "out"), d[0], d[1], static_cast<float>(c.number(7)));
  });
}

napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 13);
    const BatchNormShape s = batchNormShape(c, 11, 12);
    const int64_t size = static_cast<int64_t>(s.batch) * s.pixels * s.channels;
    const int64_t maskSize = static_cast<int64_t>(s.batch) * s.channels;
    const float* mask = c.optionalFloats(4, maskSize, "mask");
    float* dMask = c.optionalFloats(10, maskSize, "dMask");
    if ((mask == nullptr) != (dMask == nullptr)) throw ArgumentError("mask and dMask go together");
    batchNormTrainGrad(c.floats(0, size, "dOut"), c.floats(1, size, "z"), c.floats(2, s.channels, "gamma"), c.floats(3, s.channels, "beta"),
                       mask, c.floats(5, s.channels, "mean"), c.floats(6, s.channels, "variance"), c.floats(7, size, "dz"),
                       c.floats(8, s.channels, "dGamma"), c.floats(9, s.channels, "dBeta"), dMask, s);
  });
}

int64_t product(const std::vector<int>& shape) {
  int64_t n = 1;
  for (int d : shape) n *= d;
  return n;
}

napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 7);
    const int op = static_cast<int>(c.number(0));
    if (op < 0 || op > static_cast<int>(BinaryOp::kReluGrad)) throw ArgumentError("unknown binary op");
    size_t length = 0;
    napi_get_typedarray_info(env, c.args[6], nullptr, &length, nullptr, nullptr, nullptr);
    if (length < 1 || length > static_cast<size_t>(kMaxRank)) throw ArgumentError("rank must be 1.." + std::to_string(kMaxRank));
    const std::vector<int> aShape = c.ints(2, length, "aShape");
    const std::vector<int> bShape = c.ints(4, length, "bShape");
    const std::vector<int> outShape = c.ints(6, length, "outShape");
    for (size_t d = 0; d < length; d++) {
      if ((aShape[d] != 1 && aShape[d] != outShape[d]) || (bShape[d] != 1 && bShape[d] != outShape[d])) throw ArgumentError("shapes do not broadcast");
    }
    binary(static_cast<BinaryOp>(op), c.floats(1, product(aShape), "a"), aShape.data(), c.floats(3, product(bShape), "b"), bShape.data(),
           c.floats(5, product(outShape), "out"), outShape.data(), static_cast<int>(length));
  });
}

napi_value Unary(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 4);
    const int op = static_cast<int>(c.number(0));
    if (op < 0 || op > static_cast<int>(UnaryOp::kTanh)) throw ArgumentError("unknown unary op");
    size_t size = 0;
    napi_get_typedarray_info(env, c.args[1], nullptr, &size, nullptr, nullptr, nullptr);
    unary(static_cast<UnaryOp>(op), c.floats(1, -1, "x"), c.floats(2, static_cast<int64_t>(size), "out"), static_cast<int64_t>(size),
          static_cast<float>(c.number(3)));
  });
}

napi_value Reduce(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 6);
    const int op = static_cast<int>(c.number(0));
    if (op < 0 || op > static_cast<int>(ReduceOp::kMax)) throw ArgumentError("unknown reduce op");
    const int64_t outer = static_cast<int64_t>(c.number(3));
    const int64_t inner = static_cast<int64_t>(c.number(4));
    const int64_t rest = static_cast<int64_t>(c.number(5));
    if (outer < 1 || inner < 1 || rest < 1) throw ArgumentError("reduce needs non-empty axes");
    reduce(static_cast<ReduceOp>(op), c.floats(1, outer * inner * rest, "x"), c.floats(2, outer * rest, "out"), outer, inner, rest);
  });
}

napi_value SgdUpdate(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 9);
    size_t size = 0;
    napi_get_typedarray_info(env, c.args[0], nullptr, &size, nullptr, nullptr, nullptr);
    const int64_t n = static_cast<int64_t>(size);
    const SgdConfig config{static_cast<float>(c.number(5)), static_cast<float>(c.number(6)), static_cast<float>(c.number(7)), c.flag(8)};
    sgdUpdate(c.floats(0, n, "param"), c.floats(1, n, "velocity"), c.floats(2, n, "grad"), c.floats(3, n, "newParam"), c.floats(4, n, "newVelocity"),
              n, config);
  });
}

// The pair kernels' [batch, kernels] argument, and the epsilon argument where the kernel has one.
PairShape pairShape(Call& c, size_t shapeArg, float epsilon) {
  const std::vector<int> d = c.ints(shapeArg, 2, "shape");
  if (d[0] < 1 || d[1] < 1) throw ArgumentError("pair kernels need a non-empty [batch, kernels] mask");
  return PairShape{d[0], d[1], epsilon};
}

int64_t pairsSize(const PairShape& s) { return static_cast<int64_t>(s.batch) * s.batch; }
int64_t maskSize(const PairShape& s) { return static_cast<int64_t>(s.batch) * s.kernels; }

napi_value PairSimilaritySums(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 6);
    const PairShape s = pairShape(c, 4, static_cast<float>(c.number(5)));
    pairSimilaritySums(c.floats(0, maskSize(s), "mask"), c.floats(1, pairsSize(s), "positive"), c.floats(2, pairsSize(s), "negative"),
                       c.floats(3, 2, "sums"), s);
  });
}

napi_value PairSimilaritySumsGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 7);
    const PairShape s = pairShape(c, 5, static_cast<float>(c.number(6)));
    pairSimilaritySumsGrad(c.floats(0, 2, "dSums"), c.floats(1, maskSize(s), "mask"), c.floats(2, pairsSize(s), "positive"),
                           c.floats(3, pairsSize(s), "negative"), c.floats(4, maskSize(s), "dMask"), s);
  });
}

napi_value MaskJaccardMetrics(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 5);
    const PairShape s = pairShape(c, 4, 0.0f);
    maskJaccardMetrics(c.floats(0, maskSize(s), "mask"), c.floats(1, pairsSize(s), "positive"), c.floats(2, pairsSize(s), "negative"),
                       c.floats(3, 3, "out"), s);
  });
}

GateShape gateShape(Call& c, size_t shapeArg) {
  const std::vector<int> d = c.ints(shapeArg, 4, "shape");
  for (int v : d) if (v < 1) throw ArgumentError("the mask gate needs non-empty [batch, inputs, hidden, kernels]");
  return GateShape{d[0], d[1], d[2], d[3]};
}

// (pooled, w1, w2, b2, mask, [batch, inputs, hidden, kernels])
napi_value MaskGate(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 6);
    const GateShape s = gateShape(c, 5);
    maskGate(c.floats(0, static_cast<int64_t>(s.batch) * s.inputs, "pooled"), c.floats(1, static_cast<int64_t>(s.inputs) * s.hidden, "w1"),
             c.floats(2, static_cast<int64_t>(s.hidden) * s.kernels, "w2"), c.floats(3, s.kernels, "b2"),
             c.floats(4, static_cast<int64_t>(s.batch) * s.kernels, "mask"), s);
  });
}

// (dMask, mask, pooled, w1, w2, dPooled, dW1, dW2, dB2, [batch, inputs, hidden, kernels])
napi_value MaskGateGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Call c(env, info, 10);
    const GateShape s = gateShape(c, 9);
    const int64_t maskSize = static_cast<int64_t>(s.batch) * s.kernels;
    const int64_t pooledSize = static_cast<int64_t>(s.batch) * s.inputs;
    const int64_t w1Size = static_cast<int64_t>(s.inputs) * s.hidden;
    const int64_t w2Size = static_cast<int64_t>(s.hidden) * s.kernels;
    maskGateGrad(c.floats(0, maskSize, "dMask"), c.floats(1, maskSize, "mask"), c.floats(2, pooledSize, "pooled"), c.floats(3, w1Size, "w1"),
                 c.floats(4, w2Size, "w2"), c.floats(5, pooledSize, "dPooled"), c.floats(6, w1Size, "dW1"), c.floats(7, w2Size, "dW2"),
                 c.floats(8, s.kernels, "dB2"), s);
  });
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_int32(env, threadCount(), &result);
  return result;
}

napi_value ConvUsesDnnl(napi_env env, napi_callback_info) {
  napi_value result;
  napi_get_boolean(env, convUsesDnnl(), &result);
  return result;
}

napi_value ConvImplementation(napi_env env, napi_callback_info info) {
  napi_value result = nullptr;
  guarded(env, [&] {
    Call c(env, info, 1);
    const std::string name = convImplementation(geometry(c, 0));
    napi_create_string_utf8(env, name.c_str(), name.size(), &result);
  });
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  // Enumerable and replaceable, like a JS module's functions (so that a profiler can wrap them).
  constexpr auto kMethod = static_cast<napi_property_attributes>(napi_writable | napi_enumerable | napi_configurable);
  const napi_property_descriptor functions[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"maxPool", nullptr, MaxPool, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"matMul", nullptr, MatMul, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"batchNormInference", nullptr, BatchNormInference, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"sgdUpdate", nullptr, SgdUpdate, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"pairSimilaritySums", nullptr, PairSimilaritySums, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"pairSimilaritySumsGrad", nullptr, PairSimilaritySumsGrad, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"maskJaccardMetrics", nullptr, MaskJaccardMetrics, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"maskGate", nullptr, MaskGate, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"maskGateGrad", nullptr, MaskGateGrad, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"convUsesDnnl", nullptr, ConvUsesDnnl, nullptr, nullptr, nullptr, kMethod, nullptr},
      {"convImplementation", nullptr, ConvImplementation, nullptr, nullptr, nullptr, kMethod, nullptr},
  };
  napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions);
  return exports;
}

}  // namespace
}  // namespace mwt

NAPI_MODULE(NODE_GYP_MODULE_NAME, mwt::Init)

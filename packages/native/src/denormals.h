// Denormal floats (magnitudes below 1.2e-38) flushed to zero inside the kernels, as TensorFlow does
// on CPU (and so tfjs-node). Late in training, when a batch is fit, gradients shrink into that range,
// and every instruction that meets one takes a slow microcode path: a simcnn-small step at batch 128
// on two threads ran 40% slower than on one once a few percent of its gradients were denormal.
// Flushing changes only values that small, the same way on every run.
#pragma once

namespace mwt {

// Flushes denormals on the calling thread until destroyed, then restores its previous mode: the
// kernels run on Node's main thread, whose JavaScript numbers must keep IEEE semantics.
class FlushDenormals {
 public:
  FlushDenormals();
  ~FlushDenormals();
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned saved_;
};

// Flushes denormals on the calling thread for good: for threads that only ever run kernels (our
// pool's helpers, oneDNN's OpenMP threads).
void flushDenormalsForGood();

}  // namespace mwt

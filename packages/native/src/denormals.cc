#include "denormals.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace mwt {
namespace {

#if defined(__SSE__)
// MXCSR's flush-to-zero (results) and denormals-are-zero (inputs) bits.
constexpr unsigned kFlushBits = 0x8040;
unsigned currentMode() { return _mm_getcsr(); }
void setMode(unsigned mode) { _mm_setcsr(mode); }
#else
// Elsewhere denormals keep their IEEE meaning (and their cost).
constexpr unsigned kFlushBits = 0;
unsigned currentMode() { return 0; }
void setMode(unsigned) {}
#endif

}  // namespace

FlushDenormals::FlushDenormals() : saved_(currentMode()) { setMode(saved_ | kFlushBits); }

FlushDenormals::~FlushDenormals() { setMode(saved_); }

void flushDenormalsForGood() { setMode(currentMode() | kFlushBits); }

}  // namespace mwt

#include <pmmintrin.h>
#include <xmmintrin.h>

#include "kernels/cpu/parallel_for.h"

namespace wise::kernels::cpu {

void flush_denormals_on_this_thread() {
  const unsigned int wanted = _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON;
  const unsigned int csr = _mm_getcsr();
  if ((csr & wanted) != wanted) _mm_setcsr(csr | wanted);
}

}  // namespace wise::kernels::cpu

# Shared by scripts/*.sh: where things are, and how to configure each backend.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${WISE_JOBS:-$(nproc)}"

# nvcc is not always on PATH (CI runs with a bare environment).
if [[ -z "${CUDACXX:-}" && -x /usr/local/cuda/bin/nvcc ]]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
have_nvcc() { [[ -n "${CUDACXX:-}" ]] || command -v nvcc > /dev/null; }

# configure_cpu DIR: the CPU backend alone, as on a machine without the CUDA
# toolkit (Debian's Thrust, no CUDA headers anywhere).
configure_cpu() {
  cmake -S "${root}" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWISE_CUDA=OFF \
    -DWISE_THRUST_INCLUDE_DIR=/usr/include -DWISE_WARNINGS_AS_ERRORS=ON > /dev/null
}

# configure_sanitize DIR: the CPU backend with AddressSanitizer + UBSan on every wise
# target (-O2 with debug info: fast enough for the app tests' time limits, and stack
# traces name lines). Leak checking stays on; any UB report is fatal. Without MPI: Open
# MPI keeps process-lifetime allocations LeakSanitizer would report in every rank; the
# MPI path runs in the CPU phase, and here distributed/ is its single-process self.
configure_sanitize() {
  cmake -S "${root}" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWISE_CUDA=OFF \
    -DWISE_THRUST_INCLUDE_DIR=/usr/include -DWISE_WARNINGS_AS_ERRORS=ON -DWISE_SANITIZE=ON -DWISE_MPI=OFF > /dev/null
}

# configure_cuda DIR: both backends, with NCCL (scripts/fetch_nccl.sh); CI compiles for
# one architecture (90).
configure_cuda() {
  cmake -S "${root}" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWISE_CUDA=ON -DWISE_NCCL=ON \
    -DCMAKE_CUDA_ARCHITECTURES="${WISE_CUDA_ARCHITECTURES:-90}" -DWISE_WARNINGS_AS_ERRORS=ON > /dev/null
}

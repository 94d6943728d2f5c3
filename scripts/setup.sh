#!/usr/bin/env bash
# Installs the Debian packages wise needs to build, test and benchmark.
#
# Idempotent: it asks dpkg what is missing and installs only that, so a second
# run takes a fraction of a second. It never installs CUDA: the toolkit
# (/usr/local/cuda) comes with this project's machines.
#
#   scripts/setup.sh            build + test dependencies
#   scripts/setup.sh --peer     also Debian's PyTorch (fixtures generator, benchmark peers)
#                               and OpenBLAS (the conv backend comparison)
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config      # the build
  libgtest-dev libgmock-dev             # tests
  nlohmann-json3-dev                    # safetensors headers, COCO JSON
  libstb-dev                            # stb_image / stb_image_write: PNG
  libjpeg62-turbo-dev                   # libjpeg-turbo: JPEG in and out
  libpng-dev                            # palette PNGs (VOC's SegmentationObject/Class)
  libcairo2-dev                         # drawing: mask overlays, boxes, labels, plots
  fonts-dejavu-core                     # the labels' font (Cairo finds it through fontconfig)
  libdnnl-dev                           # oneDNN: CPU convolution and GEMM
  libthrust-dev                         # Thrust for CPU builds without the CUDA toolkit
  clang-14 libclang-rt-14-dev           # the libFuzzer target
  libopenmpi-dev openmpi-bin            # data-parallel training across processes (mpirun)
)
if [[ "${1:-}" == "--peer" ]]; then
  packages+=(python3-torch python3-torchvision libopenblas-openmp-dev)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("${package}")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} Debian packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
${sudo} apt-get update -qq
${sudo} apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
echo "setup: done"

#!/usr/bin/env bash
# Fetches NCCL for the CUDA build's data-parallel path into .deps/nccl (git-ignored):
# include/nccl.h and lib/libnccl.so.2 from PyPI's nvidia-nccl-cu13 wheel (NCCL is not a
# Debian package). A pinned version and its SHA-256; idempotent (a second run finds it).
#
#   scripts/fetch_nccl.sh            (scripts/setup.sh calls it where the CUDA toolkit is)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=2.32.6
wheel="nvidia_nccl_cu13-${version}-py3-none-manylinux_2_27_x86_64.whl"
sha256=76e7aad00482092baf01e13e66f441d54c96b5cf1e3f143dee27db7f731d41ba
target="${root}/.deps/nccl"
if [[ -e "${target}/VERSION" && "$(cat "${target}/VERSION")" == "${version}" ]]; then
  echo "fetch_nccl: NCCL ${version} present in ${target}"
  exit 0
fi
download="$(mktemp -d)"
trap 'rm -rf "${download}"' EXIT
echo "fetch_nccl: downloading nvidia-nccl-cu13==${version} from PyPI"
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "${download}" "nvidia-nccl-cu13==${version}"
echo "${sha256}  ${download}/${wheel}" | sha256sum --check --quiet
rm -rf "${target}"
mkdir -p "${target}"
# A wheel is a zip: the header and the library only (the rest is NCCL's device API).
python3 - "${download}/${wheel}" "${target}" <<'PY'
import sys, zipfile, pathlib
wheel, target = sys.argv[1], pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as archive:
    for name, destination in [("nvidia/nccl/include/nccl.h", "include/nccl.h"),
                              ("nvidia/nccl/lib/libnccl.so.2", "lib/libnccl.so.2")]:
        path = target / destination
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(archive.read(name))
PY
echo "${version}" > "${target}/VERSION"
echo "fetch_nccl: NCCL ${version} in ${target}"

# Third-party libraries, all from Debian packages (scripts/setup.sh) or the CUDA
# toolkit that comes with the machine.
#
# Every lookup goes through wise_require(): a missing library stops the configure
# with one line naming it and the Debian package that brings it, instead of CMake's
# stack of module frames.

# wise_require(<found> <what> <debian-package>): fails the configure unless
# <found> is true.
function(wise_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR
      "wise: ${what} not found. Install it with\n"
      "    sudo apt-get install --no-install-recommends ${package}\n"
      "or run scripts/setup.sh, which installs every package wise needs.")
  endif()
endfunction()

find_package(OpenMP QUIET COMPONENTS CXX)
wise_require(OpenMP_CXX_FOUND "OpenMP for C++ (libgomp)" "g++")
find_package(nlohmann_json 3 QUIET)
wise_require(nlohmann_json_FOUND "nlohmann-json 3 (JSON headers)" "nlohmann-json3-dev")
find_package(Threads REQUIRED)

# oneDNN (Debian's libdnnl-dev, 2.6, on libgomp like our loops): CPU convolution
# and GEMM. Found by header and library rather than through its dnnl-config.cmake:
# Debian builds oneDNN with the OpenCL GPU runtime, so that config insists on the
# OpenCL development files (ocl-icd-opencl-dev, only a Recommends of libdnnl-dev),
# while wise uses oneDNN's CPU engine alone. The run-time libOpenCL.so.1 that
# libdnnl.so links is a hard dependency of the library package, so it is always there.
find_path(WISE_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp DOC "Directory holding oneapi/dnnl/")
find_library(WISE_DNNL_LIBRARY dnnl DOC "oneDNN's shared library")
set(_wise_dnnl_found FALSE)
if(WISE_DNNL_INCLUDE_DIR AND WISE_DNNL_LIBRARY)
  set(_wise_dnnl_found TRUE)
endif()
wise_require(_wise_dnnl_found "oneDNN (oneapi/dnnl/dnnl.hpp and libdnnl.so)" "libdnnl-dev")
file(STRINGS ${WISE_DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h _wise_dnnl_major
     REGEX "#define DNNL_VERSION_MAJOR")
string(REGEX MATCH "[0-9]+" _wise_dnnl_major "${_wise_dnnl_major}")
if(NOT _wise_dnnl_major STREQUAL "2")
  # nn/conv2d_onednn.cpp is written against the v2 API (convolution_forward::desc),
  # which oneDNN 3 removed.
  message(FATAL_ERROR "wise: oneDNN 2.x expected (Debian 12's libdnnl-dev, 2.6), found "
                      "major version '${_wise_dnnl_major}' in ${WISE_DNNL_INCLUDE_DIR}")
endif()
add_library(DNNL::dnnl INTERFACE IMPORTED)
target_include_directories(DNNL::dnnl SYSTEM INTERFACE ${WISE_DNNL_INCLUDE_DIR})
target_link_libraries(DNNL::dnnl INTERFACE ${WISE_DNNL_LIBRARY})

# Thrust and CUB: the toolkit's CCCL when present (CUDA 13 keeps them under
# include/cccl), else Debian's libthrust-dev in /usr/include. CPU code uses only
# the API both have (the OMP system).
find_path(WISE_THRUST_INCLUDE_DIR thrust/version.h
          HINTS ${CUDAToolkit_INCLUDE_DIRS}/cccl /usr/local/cuda/include/cccl
          PATHS /usr/include
          DOC "Directory holding thrust/ and cub/")
wise_require(WISE_THRUST_INCLUDE_DIR "Thrust (thrust/version.h; or the CUDA toolkit's CCCL)"
             "libthrust-dev")
add_library(wise_thrust INTERFACE)
if(NOT WISE_THRUST_INCLUDE_DIR STREQUAL "/usr/include")
  # (-isystem /usr/include would reorder the compiler's own search path.)
  target_include_directories(wise_thrust SYSTEM INTERFACE ${WISE_THRUST_INCLUDE_DIR})
endif()
target_compile_definitions(wise_thrust INTERFACE THRUST_HOST_SYSTEM=THRUST_HOST_SYSTEM_CPP)
if(NOT WISE_CUDA)
  # Without nvcc, Thrust's "device" is the OpenMP system.
  target_compile_definitions(wise_thrust INTERFACE THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP)
endif()

# data/: drawing, palette PNGs, JPEG (libjpeg-turbo), stb_image for PNG.
find_package(PkgConfig QUIET)
wise_require(PKG_CONFIG_FOUND "pkg-config" "pkg-config")
pkg_check_modules(WISE_CAIRO QUIET IMPORTED_TARGET cairo)
wise_require(WISE_CAIRO_FOUND "Cairo (cairo.pc)" "libcairo2-dev")
find_package(PNG QUIET)
wise_require(PNG_FOUND "libpng" "libpng-dev")
find_package(JPEG QUIET)
wise_require(JPEG_FOUND "libjpeg-turbo (jpeglib.h)" "libjpeg62-turbo-dev")
find_path(WISE_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb DOC "Directory holding stb_image.h")
wise_require(WISE_STB_INCLUDE_DIR "stb_image.h" "libstb-dev")

if(WISE_BUILD_TESTS)
  find_package(GTest QUIET)
  wise_require(GTest_FOUND "GoogleTest" "libgtest-dev libgmock-dev")
endif()

if(WISE_CUDA)
  # cuDNN has no CMake module; it sits beside the toolkit on our machines.
  find_path(WISE_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  find_library(WISE_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
  if(NOT WISE_CUDNN_INCLUDE_DIR OR NOT WISE_CUDNN_LIBRARY)
    # Not a Debian package: it comes with the toolkit on this project's machines.
    message(FATAL_ERROR "wise: cuDNN not found next to the CUDA toolkit "
                        "(${CUDAToolkit_LIBRARY_DIR}); configure with -DWISE_CUDA=OFF "
                        "for the CPU backend alone")
  endif()
  add_library(wise_cudnn INTERFACE)
  target_include_directories(wise_cudnn SYSTEM INTERFACE ${WISE_CUDNN_INCLUDE_DIR})
  target_link_libraries(wise_cudnn INTERFACE ${WISE_CUDNN_LIBRARY})
  # Never CUDA::cuda_driver: a stub makes it link here, and the binary then
  # fails to start on a machine without a driver.
endif()

# NCCL (WISE_NCCL): the wheel's header and library as an imported target. Its header is a
# system include, so -Werror does not judge it.
if(WISE_NCCL)
  if(NOT WISE_CUDA OR NOT WISE_MPI)
    message(FATAL_ERROR "wise: WISE_NCCL needs WISE_CUDA and WISE_MPI (NCCL's ranks meet through MPI)")
  endif()
  if(NOT EXISTS "${WISE_NCCL_ROOT}/include/nccl.h" OR NOT EXISTS "${WISE_NCCL_ROOT}/lib/libnccl.so.2")
    message(FATAL_ERROR "wise: WISE_NCCL: no include/nccl.h and lib/libnccl.so.2 under ${WISE_NCCL_ROOT}; "
                        "scripts/setup.sh fetches them (PyPI's nvidia-nccl-cu13), or set WISE_NCCL_ROOT")
  endif()
  add_library(wise_nccl SHARED IMPORTED GLOBAL)
  set_target_properties(wise_nccl PROPERTIES
    IMPORTED_LOCATION "${WISE_NCCL_ROOT}/lib/libnccl.so.2"
    INTERFACE_INCLUDE_DIRECTORIES "${WISE_NCCL_ROOT}/include"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${WISE_NCCL_ROOT}/include")
  target_link_libraries(wise_nccl INTERFACE CUDA::cudart)
  message(STATUS "wise: NCCL from ${WISE_NCCL_ROOT}")
endif()

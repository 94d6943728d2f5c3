# Third-party libraries, all from Debian packages (scripts/setup.sh) or the CUDA
# toolkit that comes with the machine.

find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)
# oneDNN (Debian's libdnnl-dev, 2.6, on libgomp like our loops): CPU convolution and GEMM.
find_package(dnnl CONFIG REQUIRED)

# Thrust and CUB: the toolkit's CCCL when present (CUDA 13 keeps them under
# include/cccl), else Debian's libthrust-dev in /usr/include. CPU code uses only
# the API both have (the OMP system).
find_path(WISE_THRUST_INCLUDE_DIR thrust/version.h
          HINTS ${CUDAToolkit_INCLUDE_DIRS}/cccl /usr/local/cuda/include/cccl
          PATHS /usr/include
          DOC "Directory holding thrust/ and cub/")
if(NOT WISE_THRUST_INCLUDE_DIR)
  message(FATAL_ERROR "Thrust not found: install the CUDA toolkit or Debian's libthrust-dev "
                      "(scripts/setup.sh does)")
endif()
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

if(WISE_CUDA)
  # cuDNN has no CMake module; it sits beside the toolkit on our machines.
  find_path(WISE_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  find_library(WISE_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
  if(NOT WISE_CUDNN_INCLUDE_DIR OR NOT WISE_CUDNN_LIBRARY)
    message(FATAL_ERROR "cuDNN not found next to the CUDA toolkit (${CUDAToolkit_LIBRARY_DIR})")
  endif()
  add_library(wise_cudnn INTERFACE)
  target_include_directories(wise_cudnn SYSTEM INTERFACE ${WISE_CUDNN_INCLUDE_DIR})
  target_link_libraries(wise_cudnn INTERFACE ${WISE_CUDNN_LIBRARY})
  # Never CUDA::cuda_driver: a stub makes it link here, and the binary then
  # fails to start on a machine without a driver.
endif()

# Compiler flags shared by every wise target, and the helper that turns a
# kernel source (.cu) into either a CUDA or a C++ translation unit.

add_library(wise_compile_options INTERFACE)
target_compile_options(wise_compile_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --extended-lambda>)
if(WISE_CPU_ARCH)
  # Our CPU loops need AVX-512 where the CPU has it; g++ prefers 256-bit vectors
  # even with -march=native unless told otherwise (toolchain.md).
  target_compile_options(wise_compile_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-march=${WISE_CPU_ARCH} -mprefer-vector-width=512>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-march=${WISE_CPU_ARCH},-mprefer-vector-width=512>)
endif()
if(WISE_WARNINGS_AS_ERRORS)
  target_compile_options(wise_compile_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Werror>
    $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Werror>)
endif()
if(WISE_SANITIZE)
  # The test command's sanitizer build (scripts/test.sh): every wise object and binary,
  # any undefined behaviour fatal. Third-party exceptions are per file and per check
  # (data/CMakeLists.txt, kernels/CMakeLists.txt), each with its reason.
  if(WISE_CUDA)
    message(FATAL_ERROR "WISE_SANITIZE is for the CPU backend (-DWISE_CUDA=OFF)")
  endif()
  set(_wise_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(wise_compile_options INTERFACE ${_wise_sanitizers})
  target_link_options(wise_compile_options INTERFACE ${_wise_sanitizers})
endif()
target_compile_definitions(wise_compile_options INTERFACE WISE_WITH_CUDA=$<BOOL:${WISE_CUDA}>)

# wise_kernel_sources(<target> <file.cu>...): adds kernel sources to a target.
# With the CUDA backend nvcc compiles them; without it g++ compiles the same
# files as C++ (OpenMP only), which is what "one kernel source, two targets" means.
function(wise_kernel_sources target)
  target_sources(${target} PRIVATE ${ARGN})
  if(WISE_CUDA)
    # The host half of a .cu file runs OpenMP loops too.
    set_property(SOURCE ${ARGN} TARGET_DIRECTORY ${target} APPEND PROPERTY COMPILE_OPTIONS
                 -Xcompiler=-fopenmp)
  else()
    set_source_files_properties(${ARGN} TARGET_DIRECTORY ${target} PROPERTIES LANGUAGE CXX)
    set_property(SOURCE ${ARGN} TARGET_DIRECTORY ${target} APPEND PROPERTY COMPILE_OPTIONS
                 -x c++)
  endif()
endfunction()

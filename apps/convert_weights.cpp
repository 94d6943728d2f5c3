// convert_weights: rewrites a safetensors weight file with its float32 tensors stored as
// F16 (half the bytes, for a backbone shipped in weights/) or F16 tensors widened back to
// F32. Names, shapes, the other dtypes and the metadata are kept; wise reads either
// (nn/state_dict.h), so `--weights` takes the converted file as it takes the original.
//
//   convert_weights --in runs/body.safetensors --out weights/body-f16.safetensors --dtype f16
//
// Exit status: 0 written, 1 on an error (the file named), 2 on a bad command line.
#include <cstdio>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>

#include "apps/command_line.h"
#include "nn/state_dict.h"
#include "weights/safetensors_file.h"

namespace {

using namespace wise;

struct Invocation {
  std::string in, out;
  StoredFloat dtype = StoredFloat::f16;
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: convert_weights --in FILE --out FILE [--dtype f16|f32]\n"
               "  --in FILE     a safetensors file (F32, F16, I32, I64, U8 tensors)\n"
               "  --out FILE    written atomically\n"
               "  --dtype NAME  how floating-point tensors are stored: f16 (the default; rounded to\n"
               "                nearest even, an error for values beyond 65504) or f32\n");
}

Invocation parse_command_line(int argc, char** argv) {
  Invocation invocation;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--in")) {
      invocation.in = args.value();
    } else if (args.is("--out")) {
      invocation.out = args.value();
    } else if (args.is("--dtype")) {
      const std::string name = args.value();
      if (name != "f16" && name != "f32") throw std::invalid_argument("--dtype: expected f16 or f32, found \"" + name + "\"");
      invocation.dtype = name == "f16" ? StoredFloat::f16 : StoredFloat::f32;
    } else {
      args.unknown();
    }
  }
  if (invocation.in.empty() || invocation.out.empty()) {
    throw std::invalid_argument("--in and --out are required (--help lists the options)");
  }
  return invocation;
}

}  // namespace

int main(int argc, char** argv) {
  Invocation invocation;
  try {
    invocation = parse_command_line(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "convert_weights: %s\n", error.what());
    return 2;
  }
  try {
    const std::map<std::string, std::string> metadata = SafetensorsReader(invocation.in).header().metadata;
    NamedTensors tensors;
    for (auto& [name, tensor] : read_tensors(invocation.in)) tensors.emplace_back(name, tensor);
    write_tensors(invocation.out, tensors, metadata, invocation.dtype);
    std::printf("convert_weights: %zu tensors of %s written to %s as %s\n", tensors.size(), invocation.in.c_str(),
                invocation.out.c_str(), invocation.dtype == StoredFloat::f16 ? "F16" : "F32");
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "convert_weights: %s\n", error.what());
    return 1;
  }
}

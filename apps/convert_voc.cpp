// convert_voc: a PASCAL VOC 2012 folder (data/voc.h) as the COCO layout every other app
// reads: <out>/annotations/<split>.json (instances, masks as RLE, void regions as
// "wise_void") and <out>/images/<split>, a link to the VOC folder (file names are
// JPEGImages/<id>.jpg relative to it). What scripts/run.sh --voc does first.
//
//   convert_voc --voc VOCdevkit/VOC2012 --out runs/voc/data [--splits train,val] [--skip-bad-files]
//
// Exit status: 0 written, 1 on an error (naming the file), 2 on a bad command line.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/command_line.h"
#include "data/coco.h"
#include "data/voc.h"

namespace {

using namespace wise;
namespace fs = std::filesystem;

struct Options {
  std::string voc;
  std::string out;
  std::vector<std::string> splits{"train", "val"};
  data::VocReadOptions read;
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: convert_voc --voc ROOT --out DIR [--splits train,val] [--skip-bad-files]\n"
               "  --voc ROOT        a PASCAL VOC 2012 folder (VOCdevkit/VOC2012: ImageSets/Segmentation,\n"
               "                    JPEGImages, SegmentationObject, SegmentationClass)\n"
               "  --out DIR         writes DIR/annotations/<split>.json and links DIR/images/<split> to ROOT\n"
               "  --splits A,B      the ImageSets/Segmentation lists to convert (default train,val)\n"
               "  --skip-bad-files  leave out (and name on stderr) images whose files are missing or broken\n"
               "                    instead of stopping at the first\n");
}

Options parse(int argc, char** argv) {
  Options options;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--voc")) {
      options.voc = args.value();
    } else if (args.is("--out")) {
      options.out = args.value();
    } else if (args.is("--splits")) {
      options.splits.clear();
      std::stringstream list(args.value());
      std::string split;
      while (std::getline(list, split, ',')) {
        if (!split.empty()) options.splits.push_back(split);
      }
      if (options.splits.empty()) throw std::invalid_argument("--splits: expected names like train,val");
    } else if (args.is("--skip-bad-files")) {
      options.read.skip_bad_files = true;
    } else {
      args.unknown();
    }
  }
  if (options.voc.empty() || options.out.empty())
    throw std::invalid_argument("--voc and --out are required (--help lists the options)");
  return options;
}

// <out>/images/<split> -> the VOC root (absolute), replacing a stale link.
void link_images(const fs::path& root, const fs::path& out, const std::string& split) {
  const fs::path link = out / "images" / split;
  fs::create_directories(link.parent_path());
  if (fs::is_symlink(link)) fs::remove(link);
  if (fs::exists(link))
    throw std::runtime_error(link.string() + " exists and is not a link: convert_voc links it to the VOC folder");
  fs::create_directory_symlink(fs::absolute(root), link);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "convert_voc: %s\n", error.what());
    return 2;
  }
  try {
    for (const std::string& split : options.splits) {
      const data::VocDataset voc = data::read_voc(options.voc, split, options.read);
      std::printf("%s\n", data::voc_summary(voc).c_str());
      const fs::path annotations = fs::path(options.out) / "annotations" / (split + ".json");
      fs::create_directories(annotations.parent_path());
      data::write_coco_dataset(voc.dataset, annotations.string());
      link_images(options.voc, options.out, split);
      std::printf("wrote %s (images: %s)\n", annotations.c_str(), (fs::path(options.out) / "images" / split).c_str());
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "convert_voc: %s\n", error.what());
    return 1;
  }
}

// make_shapes: writes a synthetic shapes dataset (data/shapes/shapes.h) from a committed
// configuration, e.g. the default
//
//   make_shapes --config shapes-v1 --out data/shapes-v1 [--voc]
//               [--count-train N --count-val N] [--preview preview.png [--preview-index I]]
//
// --config takes a name (data/shapes/configs/<name>.json) or a path to a .json file. The
// counts override the configuration's (the images are a prefix of the full split).
// --preview draws a train image (default 0) enlarged, next to itself with its instance
// masks and class names over it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "apps/command_line.h"
#include "data/draw.h"
#include "data/shapes/shapes.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using namespace wise::data;

struct Options {
  std::string config = "shapes-v1";
  std::string out;
  std::string preview;
  int64_t preview_index = 0;
  ShapesDatasetOptions dataset;
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: make_shapes [--config NAME|PATH.json] --out DIR [--voc]\n"
               "                   [--count-train N] [--count-val N] [--preview PNG [--preview-index I]]\n"
               "  --config       a configuration in data/shapes/configs (default shapes-v1) or a file\n"
               "  --out          output folder: images/, annotations/, shapes_config.json\n"
               "  --voc          also write the PASCAL VOC layout\n"
               "  --count-train  number of train images (default: the configuration's)\n"
               "  --count-val    number of val images (default: the configuration's)\n"
               "  --preview      draw a train image with its instance masks into this PNG\n"
               "  --preview-index  which train image (default 0)\n");
}

Options parse_options(int argc, char** argv) {
  Options options;
  wise::apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--config")) {
      options.config = args.value();
    } else if (args.is("--out")) {
      options.out = args.value();
    } else if (args.is("--preview")) {
      options.preview = args.value();
    } else if (args.is("--preview-index")) {
      options.preview_index = args.integer(0);
    } else if (args.is("--voc")) {
      options.dataset.voc = true;
    } else if (args.is("--count-train")) {
      options.dataset.train_count = args.integer(0);
    } else if (args.is("--count-val")) {
      options.dataset.val_count = args.integer(0);
    } else {
      args.unknown();
    }
  }
  if (options.out.empty()) throw std::invalid_argument("--out is required (--help lists the options)");
  return options;
}

// `image` enlarged `scale` times (nearest neighbour) and pasted with its left edge at
// column `offset_x` of `target` (same channels, tall enough).
void paste_enlarged(const Image& image, int64_t scale, int64_t offset_x, Image& target) {
  const int64_t channels = image.channels;
  for (int64_t y = 0; y < image.height * scale; ++y) {
    for (int64_t x = 0; x < image.width * scale; ++x) {
      const uint8_t* from = image.row(y / scale) + (x / scale) * channels;
      std::copy(from, from + channels, target.row(y) + (offset_x + x) * channels);
    }
  }
}

Image blank_image(int64_t height, int64_t width, int64_t channels, uint8_t value) {
  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.pixels.assign(static_cast<size_t>(height * width * channels), value);
  return image;
}

// Train image `index` twice, enlarged: as generated, and with its instance masks (one
// colour per instance, outlined) and class names drawn over it.
void write_preview(const ShapesConfig& config, int64_t index, const std::string& path) {
  constexpr int64_t kScale = 2, kGap = 8;
  const ShapesSample sample = generate_shapes_image(config, config.train.seed, index);
  const int64_t panel = sample.image.width * kScale, right = panel + kGap;
  const int64_t height = sample.image.height * kScale, width = 2 * panel + kGap;
  Image side_by_side = blank_image(height, width, 3, 255);
  paste_enlarged(sample.image, kScale, 0, side_by_side);
  paste_enlarged(sample.image, kScale, right, side_by_side);

  // The annotations, enlarged and moved into the right panel.
  Dataset dataset;
  dataset.categories = shapes_categories(config);
  const int64_t image_id = shapes_image_id(index);
  dataset.images.push_back(
      ImageInfo{image_id, shapes_file_stem(index) + ".png", height, width, std::nullopt});
  for (const ShapesInstance& instance : sample.instances) {
    Image mask = blank_image(sample.image.height, sample.image.width, 1, 0);
    mask.pixels = rle_decode(instance.mask);
    Image placed = blank_image(height, width, 1, 0);
    paste_enlarged(mask, kScale, right, placed);
    Annotation annotation;
    annotation.id = static_cast<int64_t>(dataset.annotations.size()) + 1;
    annotation.image_id = image_id;
    annotation.category_id = instance.category_id;
    annotation.segmentation = rle_encode(placed.pixels, height, width);
    annotation.bbox = rle_to_bbox(annotation.segmentation);
    annotation.area = static_cast<double>(rle_area(annotation.segmentation));
    dataset.annotations.push_back(annotation);
  }
  Canvas canvas(side_by_side);
  DrawOptions draw;
  draw.boxes = false;
  draw.mask_alpha = 0.55;
  draw.contour_width = 1.5;
  draw_annotations(canvas, dataset, image_id, draw);
  canvas.save_png(path);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    const ShapesConfig config = resolve_shapes_config(options.config);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    const auto start = std::chrono::steady_clock::now();
    const auto summaries = generate_shapes_dataset(config, options.out, options.dataset);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int64_t images = 0, instances = 0;
    for (const auto& summary : summaries) {
      std::printf("%s: %-5s %6lld images %7lld instances (%lld planned instances skipped: no room)\n",
                  config.name.c_str(), summary.split.c_str(), static_cast<long long>(summary.images),
                  static_cast<long long>(summary.instances),
                  static_cast<long long>(summary.skipped_instances));
      images += summary.images;
      instances += summary.instances;
    }
    std::printf("wrote %lld images, %lld instances to %s%s in %.2f s (%d threads)\n",
                static_cast<long long>(images), static_cast<long long>(instances),
                options.out.c_str(), options.dataset.voc ? " (COCO + VOC)" : " (COCO)", seconds,
                threads);
    if (!options.preview.empty()) {
      write_preview(config, options.preview_index, options.preview);
      std::printf("preview of train image %lld: %s\n", static_cast<long long>(options.preview_index),
                  options.preview.c_str());
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "make_shapes: %s\n", error.what());
    return 1;
  }
}

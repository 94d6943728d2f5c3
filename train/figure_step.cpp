#include "train/figure_step.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "data/draw.h"
#include "data/heatmap.h"
#include "data/image_io.h"
#include "kernels/check.h"
#include "pseudo_masks/peak_retrieval.h"
#include "train/prm_training.h"
#include "train/split_images.h"

namespace wise {
namespace {

constexpr int64_t kMargin = 4;  // pixels between tiles, in the panel

// One picture of a panel and its caption (drawn on the panel, after scaling, so that
// text stays sharp).
struct Tile {
  data::Canvas canvas;
  std::string caption;
};

// A map over the image, its colours from its minimum to its `top` quantile (1: the
// maximum). Peak response maps are sparse, a few pixels far above the rest: their 99th
// percentile shows the instance where the maximum would show a dot.
data::Canvas map_canvas(const data::Image& image, const std::vector<float>& values, double top = 1.0) {
  std::vector<float> sorted = values;
  const auto rank = static_cast<std::ptrdiff_t>(top * static_cast<double>(sorted.size() - 1));
  std::nth_element(sorted.begin(), sorted.begin() + rank, sorted.end());
  const float high = sorted[static_cast<size_t>(rank)];
  const float low = *std::min_element(values.begin(), values.end());
  return data::Canvas(data::heat_overlay(image, values.data(), low, high));
}

}  // namespace

std::vector<std::string> make_figures(PrmClassifier& model, const DatasetSplit& split,
                                      const FigureStepOptions& options, const std::string& folder) {
  WISE_CHECK(options.scale >= 1, "figures: scale must be >= 1, got ", options.scale);
  std::vector<std::string> written;
  if (options.count <= 0) return written;
  SplitImages split_images(split, options.count, 8, options.proposals);
  const data::Dataset& images = split_images.dataset();
  const std::vector<int64_t>& category_ids = split_images.category_ids();
  std::filesystem::create_directories(folder);
  const int64_t K = model.num_classes();

  while (std::optional<SplitBatch> next = split_images.next()) {
    const data::WeakBatch& batch = next->batch;
    const PrmInference inference = model.infer(batch.images.to(options.device), /*response_maps=*/true);
    const Tensor maps = inference.upsampled_maps.to(Device::cpu);
    const Tensor class_maps = inference.class_maps.to(Device::cpu);
    const Tensor responses = inference.response_maps.to(Device::cpu);
    const std::vector<float> labels = batch.labels.to_vector<float>();
    const int64_t h = class_maps.size(2), w = class_maps.size(3), H = batch.images.size(2), W = batch.images.size(3);

    for (size_t n = 0; n < batch.image_ids.size(); ++n) {
      const data::ImageInfo& info = *next->images[n];
      const data::Image image = data::load_image(split.image_folder + "/" + info.file_name, 3);
      const int64_t height = info.height, width = info.width;
      std::vector<Tile> top, bottom;
      top.push_back({data::Canvas(image), "image " + std::to_string(info.id)});

      // Row 1: each labelled class's map with the peaks the pseudo masks start from.
      std::vector<bool> labelled(static_cast<size_t>(K));
      for (int64_t k = 0; k < K; ++k) labelled[static_cast<size_t>(k)] = labels[n * K + k] > 0.5f;
      const std::vector<PixelPeak> peaks =
          image_peaks(inference, maps, static_cast<int64_t>(n), labelled, category_ids, batch.geometry[n],
                      batch.images.shape(), options.peaks, model.backbone().stride(5));
      for (int64_t k = 0; k < K; ++k) {
        if (!labelled[static_cast<size_t>(k)]) continue;
        const int64_t id = category_ids[static_cast<size_t>(k)];
        const std::vector<float> full = pseudo_masks::upsample_class_response(
            class_maps.data<float>() + (static_cast<int64_t>(n) * K + k) * h * w, h, w, H, W);
        data::Canvas tile = map_canvas(image, crop_plane(full.data(), W, height, width));
        for (const PixelPeak& peak : peaks) {
          if (peak.category_id != id) continue;
          const std::array<double, 4> square{static_cast<double>(peak.x) - 2, static_cast<double>(peak.y) - 2, 5, 5};
          tile.draw_box(square, {255, 255, 255}, 1.5);
        }
        top.push_back({std::move(tile), "CAM " + split_images.category_name(id) + ", peaks"});
      }

      // The pseudo masks of those peaks, as the pseudo-mask step picks them.
      std::vector<pseudo_masks::ClassPeak> class_peaks;
      for (const PixelPeak& peak : peaks) class_peaks.push_back({peak.category_id, peak.y, peak.x});
      const std::vector<proposals::Proposal>& proposals = next->proposals[n].proposals;
      const pseudo_masks::ImagePseudoMasks picks =
          pseudo_masks::pseudo_masks_for_image(info.id, proposals, class_peaks, options.selection);
      std::vector<data::Detection> detections;
      for (const pseudo_masks::PseudoMask& mask : picks.masks) {
        const proposals::Proposal& proposal = proposals[mask.proposal];
        detections.push_back({info.id, mask.category_id, mask.objectness, proposal.mask, proposal.box});
      }
      data::Canvas masks(image);
      data::DrawOptions draw;
      draw.boxes = false;
      draw.labels = false;  // text drawn before the panel's scaling would blur; colours tell the instances apart
      data::draw_detections(masks, detections, images.categories, info.id, draw);
      top.push_back({std::move(masks), "pseudo masks"});

      // Row 2: the kept peaks' response maps, strongest peak first.
      std::vector<size_t> kept;  // indices into inference.kept
      const int64_t* rows = inference.peaks.data<int64_t>();
      const float* values = inference.peak_values.data<float>();
      for (size_t i = 0; i < inference.kept.size(); ++i)
        if (rows[4 * inference.kept[i]] == static_cast<int64_t>(n)) kept.push_back(i);
      std::stable_sort(kept.begin(), kept.end(),
                       [&](size_t a, size_t b) { return values[inference.kept[a]] > values[inference.kept[b]]; });
      if (static_cast<int64_t>(kept.size()) > options.max_response_maps) kept.resize(static_cast<size_t>(options.max_response_maps));
      for (size_t i : kept) {
        const int64_t k = rows[4 * inference.kept[i] + 1];
        bottom.push_back({map_canvas(image, crop_plane(responses.data<float>() + static_cast<int64_t>(i) * H * W, W, height, width), 0.99),
                          "peak response: " + split_images.category_name(category_ids[static_cast<size_t>(k)])});
      }

      // The panel: tiles scaled up, in two rows.
      const int64_t tile_h = height * options.scale, tile_w = width * options.scale;
      const int64_t columns = static_cast<int64_t>(std::max(top.size(), std::max<size_t>(bottom.size(), 1)));
      const int64_t panel_rows = bottom.empty() ? 1 : 2;
      data::Canvas panel(panel_rows * tile_h + (panel_rows + 1) * kMargin, columns * tile_w + (columns + 1) * kMargin);
      for (size_t row = 0; row < 2; ++row) {
        const std::vector<Tile>& tiles = row == 0 ? top : bottom;
        for (size_t c = 0; c < tiles.size(); ++c) {
          const int64_t x = kMargin + static_cast<int64_t>(c) * (tile_w + kMargin);
          const int64_t y = kMargin + static_cast<int64_t>(row) * (tile_h + kMargin);
          panel.draw_canvas(tiles[c].canvas, x, y, options.scale);
          data::TextStyle style;
          style.font_size = 11;
          panel.draw_label(static_cast<double>(x), static_cast<double>(y + 16), tiles[c].caption, {0, 0, 0}, style);
        }
      }
      const std::string path = folder + "/" + std::to_string(info.id) + ".png";
      panel.save_png(path);
      written.push_back(path);
    }
  }
  return written;
}

}  // namespace wise

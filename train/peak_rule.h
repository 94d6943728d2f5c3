// Which peaks of PRM's upsampled class maps count: the one rule behind train_prm's val
// peak quality, its pseudo masks and its figures (and, through PrmConfig, the PRM
// baseline's kept peaks).
//
// For image n and each class k in `present` (the classes predicted present for the val
// peak quality; the image-level label for pseudo masks), a local maximum of the x f
// upsampled map M_k (models/prm.h's inference PSL) counts when
//   M_k(p) >= fraction x max M_k      (a map whose maximum is not positive: its maximum
//                                      counts, so every labelled class gives a peak), and,
//   with `dominant`, M_k(p) >= M_j(p) for every other present class j.
// Why `dominant`: a small ResNet's maps of one class fire on large objects of another
// (a triangle's map peaks on a square's corners); the class whose map is highest at a
// pixel is the one the network thinks is there, so a peak another present class
// out-scores is a confusion, not an instance. Absent classes never compete: the label
// (or the prediction) already ruled them out.
#pragma once

#include <cstdint>
#include <vector>

#include "data/transforms.h"
#include "models/prm.h"
#include "train/peak_quality.h"

namespace wise {

struct PeakRule {
  float fraction = 0.25f;  // >= fraction x the map's maximum
  bool dominant = false;   // and the highest of the present classes' maps at the peak
};

// The counted peaks of image n of an inference batch, in the pixels of its original
// image (geometry undoes the loader's resize). `maps` is the batch's upsampled maps on
// the CPU, `images` the network input's shape, `stride` the class maps'
// (ResNet::stride(5)). Peaks come class by class, each class's in `inference.peaks`'
// order.
std::vector<PixelPeak> image_peaks(const PrmInference& inference, const Tensor& maps, int64_t n,
                                   const std::vector<bool>& present, const std::vector<int64_t>& category_ids,
                                   const data::ImageGeometry& geometry, const Shape& images, const PeakRule& rule,
                                   int64_t stride);

// The peak (y, x) of a map upsampled by `factor` with align corners from an (h, w)
// class map of stride `stride`, as a pixel of the (height, width) network input: cell i
// of the class map is centred on input pixel stride * i (every strided layer of the
// ResNet, a k x k convolution or pool with padding k / 2, centres its output j on input
// 2 j; a half-cell offset would move peaks by 15.5 pixels at stride 32).
PixelPeak peak_to_pixel(int64_t category_id, int64_t y, int64_t x, int64_t map_height, int64_t map_width,
                        int factor, int64_t stride, int64_t height, int64_t width);

}  // namespace wise

#include "data/dataset.h"

#include <set>

namespace wise::data {

Dataset first_images(const Dataset& dataset, int64_t limit) {
  if (limit <= 0 || limit >= static_cast<int64_t>(dataset.images.size())) return dataset;
  Dataset subset;
  subset.categories = dataset.categories;
  subset.images.assign(dataset.images.begin(), dataset.images.begin() + limit);
  std::set<int64_t> ids;
  for (const ImageInfo& image : subset.images) ids.insert(image.id);
  for (const Annotation& annotation : dataset.annotations)
    if (ids.count(annotation.image_id)) subset.annotations.push_back(annotation);
  return subset;
}

}  // namespace wise::data

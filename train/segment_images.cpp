// Segmenting images with a trained Mask R-CNN, refined or not (see segment_images.h).
#include "train/segment_images.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/coco.h"
#include "data/draw.h"
#include "data/image_io.h"
#include "data/shard_files.h"
#include "kernels/check.h"
#include "train/rank_shards.h"
#include "train/trained_mask_rcnn.h"

namespace wise {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool is_image_file(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png";
}

// A .txt list: one path per line, relative to the list's folder; blank lines and lines
// starting with '#' skipped.
std::vector<std::string> read_list(const fs::path& list) {
  std::ifstream in(list);
  WISE_CHECK(in.good(), list.string(), ": cannot open the image list");
  std::vector<std::string> paths;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    size_t begin = 0;
    while (begin < line.size() && std::isspace(static_cast<unsigned char>(line[begin]))) ++begin;
    line = line.substr(begin);
    if (line.empty() || line[0] == '#') continue;
    const fs::path path(line);
    paths.push_back(path.is_absolute() ? path.string() : (list.parent_path() / path).string());
  }
  return paths;
}

std::vector<std::string> expand_paths(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    const fs::path path(input);
    WISE_CHECK(fs::exists(path), input, ": no such file or folder");
    if (fs::is_directory(path)) {
      std::vector<std::string> found;
      for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
        if (entry.is_regular_file() && is_image_file(entry.path())) found.push_back(entry.path().string());
      }
      WISE_CHECK(!found.empty(), input, ": the folder holds no .jpg, .jpeg or .png file");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (path.extension() == ".txt") {
      const std::vector<std::string> listed = read_list(path);
      WISE_CHECK(!listed.empty(), input, ": the image list is empty");
      files.insert(files.end(), listed.begin(), listed.end());
    } else {
      files.push_back(input);
    }
  }
  return files;
}

// The picture's file name: the image's stem, and its id where two images share a stem.
std::vector<std::string> picture_names(const data::Dataset& images) {
  std::map<std::string, int> stems;
  for (const data::ImageInfo& info : images.images) ++stems[fs::path(info.file_name).stem().string()];
  std::vector<std::string> names;
  for (const data::ImageInfo& info : images.images) {
    const std::string stem = fs::path(info.file_name).stem().string();
    names.push_back(stems[stem] > 1 ? stem + "-" + std::to_string(info.id) + ".png" : stem + ".png");
  }
  return names;
}

std::map<int64_t, std::vector<data::Detection>> by_image(const std::vector<data::Detection>& detections) {
  std::map<int64_t, std::vector<data::Detection>> grouped;
  for (const data::Detection& detection : detections) grouped[detection.image_id].push_back(detection);
  return grouped;
}

// Every image's detections refined with its proposals, images in `chunk`s (a few hundred
// thousand RLE runs each: bounded memory), one image per OpenMP thread for the proposals.
std::vector<data::Detection> refine_all(const data::Dataset& images, const std::vector<data::Detection>& detections,
                                        const SegmentOptions& options, const std::string& image_folder,
                                        SegmentResult& result) {
  proposals::ProposalRunOptions run = options.proposals;
  run.images = image_folder;
  if (!run.cache.empty()) fs::create_directories(run.cache);
  const std::map<int64_t, std::vector<data::Detection>> grouped = by_image(detections);
  std::vector<data::Detection> refined;
  constexpr size_t kChunk = 32;
  for (size_t begin = 0; begin < images.images.size(); begin += kChunk) {
    std::vector<const data::ImageInfo*> chunk;
    for (size_t i = begin; i < std::min(images.images.size(), begin + kChunk); ++i) {
      if (grouped.count(images.images[i].id) != 0) chunk.push_back(&images.images[i]);
    }
    const std::vector<proposals::ImageProposals> found = proposals::proposals_for_images(chunk, run);
    for (size_t k = 0; k < chunk.size(); ++k) {
      for (data::Detection& d : pseudo_masks::refine_detections(grouped.at(chunk[k]->id), found[k].proposals,
                                                                 options.refinement, &result.refinement)) {
        refined.push_back(std::move(d));
      }
    }
    if (options.progress_stream != nullptr) {
      *options.progress_stream << "segment: refined " << std::min(images.images.size(), begin + kChunk) << "/"
                               << images.images.size() << " images\n";
    }
  }
  return refined;
}

}  // namespace

data::Dataset segment_inputs(const SegmentOptions& options, std::string& image_folder) {
  WISE_CHECK(options.annotations.empty() != options.paths.empty(),
             "segment: give images (files, folders, .txt lists) or --annotations with --images, not both");
  data::Dataset dataset;
  if (!options.annotations.empty()) {
    dataset = data::read_coco_dataset(options.annotations);
    image_folder = options.image_folder;
    WISE_CHECK(!image_folder.empty(), "segment: --annotations ", options.annotations,
               " needs --images, the folder its file_names are relative to");
  } else {
    image_folder.clear();  // file names are paths
    const std::vector<std::string> files = expand_paths(options.paths);
    for (size_t i = 0; i < files.size(); ++i) {
      const data::ImageHeader header = data::read_image_header(files[i]);
      dataset.images.push_back({static_cast<int64_t>(i) + 1, files[i], header.height, header.width, std::nullopt});
    }
  }
  if (options.limit > 0 && static_cast<int64_t>(dataset.images.size()) > options.limit) {
    dataset.images.resize(static_cast<size_t>(options.limit));
  }
  WISE_CHECK(!dataset.images.empty(), "segment: no images to segment");
  return dataset;
}

namespace {

// The options' shard of the images: inference, refinement and pictures into
// options.out_dir.
SegmentResult segment_shard(const SegmentOptions& options) {
  WISE_CHECK(options.model.empty() != options.detections.empty() && !options.out_dir.empty(),
             "segment: --out and one of --model and --detections are required");
  WISE_CHECK(options.detections.empty() || !options.annotations.empty(),
             "segment: --detections needs --annotations (the COCO file the results are on)");
  WISE_CHECK(options.score_thresh >= 0 && options.score_thresh <= 1 && options.draw_thresh >= 0 &&
                 options.draw_thresh <= 1,
             "segment: --score-thresh and --draw-thresh must be in [0, 1]");
  WISE_CHECK(!options.refine || !options.proposals.cache.empty() || !options.proposals.precomputed.empty(),
             "segment: --refine needs proposals: a cache folder or precomputed proposal files");
  std::ostream* progress = options.progress_stream;
  SegmentResult result;
  std::unique_ptr<TrainedMaskRcnn> trained;
  if (!options.model.empty()) {
    trained = load_trained_mask_rcnn(options.model, options.device, options.score_thresh);
    result.checkpoint = trained->checkpoint;
    result.iteration = trained->iteration;
  }
  std::string image_folder;
  const data::Dataset inputs = segment_inputs(options, image_folder);
  // Picture names from the whole list (a name two images share gets their ids), so a
  // shard names each picture as one unsharded run does.
  const std::vector<std::string> all_names = picture_names(inputs);
  std::map<int64_t, std::string> picture_name;
  for (size_t i = 0; i < inputs.images.size(); ++i) picture_name[inputs.images[i].id] = all_names[i];
  data::Dataset images = proposals::images_of_shard(inputs, options.shard);  // the annotations of the images left, too
  if (trained != nullptr) {
    if (!options.annotations.empty()) {
      std::vector<std::string> ours, theirs;
      for (const data::Category& category : trained->categories) ours.push_back(category.name);
      for (const data::Category& category : images.categories) theirs.push_back(category.name);
      WISE_CHECK(ours == theirs, options.annotations, ": its categories differ from those the model at ",
                 trained->checkpoint, " was trained on");
    }
    images.categories = trained->categories;  // labels name categories in the model's order
  }
  result.images = static_cast<int64_t>(images.images.size());
  fs::create_directories(options.out_dir);

  std::vector<data::Detection> detections;
  auto start = Clock::now();
  if (trained == nullptr) {
    // Given predictions: those on the (limited) images, in the file's order.
    std::set<int64_t> ids;
    for (const data::ImageInfo& image : images.images) ids.insert(image.id);
    for (data::Detection& detection : data::read_coco_results(options.detections, data::read_coco_dataset(options.annotations)))
      if (ids.count(detection.image_id) != 0) detections.push_back(std::move(detection));
  } else if (!images.images.empty()) {  // (a rank's shard of a short list may have none)
    // Inference.
    MaskRcnnTrainingOptions predict = trained->options;
    predict.val_batch_size = options.batch_size;
    predict.num_workers = options.num_workers;
    double last_line = -1;
    detections = predict_mask_rcnn(
        *trained->model, images, image_folder, predict, [&](int64_t done, int64_t total) {
          const double elapsed = seconds_since(start);
          if (progress != nullptr && (done == total || elapsed - last_line >= 5)) {
            char line[128];
            std::snprintf(line, sizeof(line), "segment: %lld/%lld images, %.1f images/s\n", static_cast<long long>(done),
                          static_cast<long long>(total), done / std::max(elapsed, 1e-9));
            *progress << line << std::flush;
            last_line = elapsed;
          }
        });
  }
  result.inference_seconds = seconds_since(start);
  result.detections = static_cast<int64_t>(detections.size());
  result.results_path = (fs::path(options.out_dir) / "detections.json").string();
  data::write_coco_results(detections, result.results_path);
  data::Dataset listing = images;
  listing.annotations.clear();
  result.images_path = (fs::path(options.out_dir) / "images.json").string();
  data::write_coco_dataset(listing, result.images_path);

  // Refinement (WISE Fig. 3).
  const std::vector<data::Detection>* shown = &detections;
  std::vector<data::Detection> refined;
  if (options.refine) {
    start = Clock::now();
    refined = refine_all(images, detections, options, image_folder, result);
    result.refinement_seconds = seconds_since(start);
    result.refined_results_path = (fs::path(options.out_dir) / "detections-refined.json").string();
    data::write_coco_results(refined, result.refined_results_path);
    shown = &refined;
  }

  // Pictures.
  if (options.pictures) {
    start = Clock::now();
    result.pictures_dir = (fs::path(options.out_dir) / "pictures").string();
    fs::create_directories(result.pictures_dir);
    const std::map<int64_t, std::vector<data::Detection>> grouped = by_image(*shown);
    data::DrawOptions draw;
    draw.min_score = options.draw_thresh;
    for (size_t i = 0; i < images.images.size(); ++i) {
      const data::ImageInfo& info = images.images[i];
      const std::string path = image_folder.empty() ? info.file_name : image_folder + "/" + info.file_name;
      data::Canvas canvas(data::load_image(path, 3));
      const auto found = grouped.find(info.id);
      if (found != grouped.end()) {
        data::draw_detections(canvas, found->second, images.categories, info.id, draw);
        for (const data::Detection& d : found->second) result.drawn += d.score >= options.draw_thresh ? 1 : 0;
      }
      canvas.save_png((fs::path(result.pictures_dir) / picture_name.at(info.id)).string());
    }
    result.drawing_seconds = seconds_since(start);
  }
  return result;
}

}  // namespace

SegmentResult segment_images(const SegmentOptions& options) {
  distributed::Communicator* job = options.communicator;
  if (job == nullptr || job->world_size() == 1) return segment_shard(options);

  // A job: each rank segments its shard into a folder of its own under out_dir...
  const fs::path out(options.out_dir);
  SegmentOptions mine = options;
  mine.shard = rank_shard(options.shard, job);
  mine.out_dir = rank_shard_path((out / "segment").string(), job->rank(), job->world_size());
  if (job->rank() != 0) mine.progress_stream = nullptr;
  SegmentResult result;
  run_rank_shard(job, "segment", [&] { result = segment_shard(mine); });
  std::vector<double> counts{static_cast<double>(result.images),    static_cast<double>(result.detections),
                             static_cast<double>(result.drawn),     static_cast<double>(result.refinement.detections),
                             static_cast<double>(result.refinement.replaced), result.refinement.iou_sum};
  job->all_reduce_sum(counts.data(), static_cast<int64_t>(counts.size()));
  result.images = static_cast<int64_t>(counts[0]);
  result.detections = static_cast<int64_t>(counts[1]);
  result.drawn = static_cast<int64_t>(counts[2]);
  result.refinement.detections = static_cast<int64_t>(counts[3]);
  result.refinement.replaced = static_cast<int64_t>(counts[4]);
  result.refinement.iou_sum = counts[5];
  result.results_path = (out / "detections.json").string();
  result.refined_results_path = options.refine ? (out / "detections-refined.json").string() : "";
  result.images_path = (out / "images.json").string();
  result.pictures_dir = options.pictures ? (out / "pictures").string() : "";
  if (job->rank() != 0) return result;

  // ...and rank 0 joins them into the files, and the pictures folder, of one process.
  std::string image_folder;
  const data::Dataset reference = proposals::images_of_shard(segment_inputs(options, image_folder), options.shard);
  std::vector<std::string> folders;
  for (int rank = 0; rank < job->world_size(); ++rank) {
    folders.push_back(rank_shard_path((out / "segment").string(), rank, job->world_size()));
  }
  data::merge_segment_folders(reference, folders, options.out_dir);
  for (const std::string& folder : folders) {
    if (options.pictures) {
      fs::create_directories(result.pictures_dir);
      for (const fs::directory_entry& picture : fs::directory_iterator(fs::path(folder) / "pictures"))
        fs::rename(picture.path(), fs::path(result.pictures_dir) / picture.path().filename());
    }
    fs::remove_all(folder);
  }
  return result;
}

}  // namespace wise

// Training Mask R-CNN (see mask_rcnn_training.h).
#include "train/mask_rcnn_training.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "data/coco.h"
#include "nn/lr_schedule.h"
#include "train/data_parallel.h"
#include "train/detection_results.h"
#include "train/jsonl_log.h"
#include "train/split_images.h"

namespace wise {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

void check_options(const MaskRcnnTrainingOptions& options) {
  const char* what = "Mask R-CNN training: ";
  WISE_CHECK(!options.data_dir.empty(), what, "the data folder (--data) is empty");
  WISE_CHECK(!options.out_dir.empty(), what, "the output folder (--out) is empty");
  WISE_CHECK(options.iterations >= 1, what, "iterations must be >= 1, got ", options.iterations);
  WISE_CHECK(options.batch_size >= 1, what, "batch_size must be >= 1, got ", options.batch_size);
  WISE_CHECK(options.val_batch_size >= 1, what, "val_batch_size must be >= 1, got ", options.val_batch_size);
  WISE_CHECK(options.base_lr > 0, what, "the learning rate must be > 0, got ", options.base_lr);
  WISE_CHECK(options.bias_lr_multiplier > 0, what, "bias_lr_multiplier must be > 0, got ", options.bias_lr_multiplier);
  WISE_CHECK(options.trainable_layers >= 0 && options.trainable_layers <= 5, what,
             "trainable_layers must be in [0, 5], got ", options.trainable_layers);
  WISE_CHECK(options.fpn_channels >= 1 && options.representation_size >= 1 && options.mask_layers >= 1, what,
             "fpn_channels, representation_size and mask_layers must be >= 1");
  WISE_CHECK(options.anchor_sizes.size() == 5, what, "one anchor size per FPN level (P2..P6: 5), got ",
             options.anchor_sizes.size());
  WISE_CHECK(options.flip_probability >= 0 && options.flip_probability <= 1, what,
             "flip_probability must be in [0, 1], got ", options.flip_probability);
  WISE_CHECK(options.jitter >= 0 && options.jitter < 1, what, "jitter must be in [0, 1), got ", options.jitter);
  WISE_CHECK(options.image_size >= 0, what, "image_size must be >= 0 (0: native), got ", options.image_size);
  WISE_CHECK(options.val_every >= 0 && options.val_limit >= 0, what, "val_every and val_limit must be >= 0");
  WISE_CHECK(options.num_workers >= 0, what, "num_workers must be >= 0, got ", options.num_workers);
}

ResNetFpnConfig backbone_config(const MaskRcnnTrainingOptions& options) {
  ResNetFpnConfig backbone;
  backbone.body.depth = options.depth;
  backbone.body.width_multiplier = options.width_multiplier;
  backbone.body.norm = options.norm;
  backbone.body.trainable_layers = options.trainable_layers;
  backbone.out_channels = options.fpn_channels;
  return backbone;
}

data::AugmentOptions augmentation(const MaskRcnnTrainingOptions& options, bool training) {
  data::AugmentOptions augment;
  augment.resize.min_size = options.image_size;  // 0: native
  augment.resize.max_size = options.max_image_size;
  if (training) {
    augment.flip_probability = options.flip_probability;
    augment.jitter = data::ColorJitterOptions{options.jitter, options.jitter, options.jitter};
  }
  return augment;
}

std::string config_json(const MaskRcnnTrainingOptions& options, const LrScheduleOptions& schedule,
                        const std::vector<data::Category>& categories, int64_t train_images) {
  const int64_t num_classes = static_cast<int64_t>(categories.size());
  Json category_list = Json::array();
  for (const data::Category& category : categories) category_list.push_back({{"id", category.id}, {"name", category.name}});
  Json config;
  config["model"] = {{"arch", "mask_rcnn"},
                     {"depth", options.depth},
                     {"width_multiplier", options.width_multiplier},
                     {"norm", normalization_name(options.norm)},
                     {"trainable_layers", options.trainable_layers},
                     {"fpn_channels", options.fpn_channels},
                     {"num_classes", num_classes},
                     {"weights", options.weights},
                     {"anchor_sizes", options.anchor_sizes},
                     {"representation_size", options.representation_size},
                     {"mask_layers", options.mask_layers},
                     {"rpn_batch_size_per_image", options.rpn_batch_size_per_image},
                     {"rpn_pre_nms_top_n_train", options.rpn_pre_nms_top_n_train},
                     {"rpn_post_nms_top_n_train", options.rpn_post_nms_top_n_train},
                     {"rpn_pre_nms_top_n_test", options.rpn_pre_nms_top_n_test},
                     {"rpn_post_nms_top_n_test", options.rpn_post_nms_top_n_test},
                     {"box_batch_size_per_image", options.box_batch_size_per_image},
                     {"detections_per_img", options.detections_per_img}};
  // The categories in label order (label l is categories[l - 1]): what `segment` names
  // its detections by (train/trained_mask_rcnn.h).
  config["data"] = {{"train_images", train_images},
                    {"train_annotations", options.train_annotations},
                    {"categories", category_list}};
  config["solver"] = {{"optimizer", "sgd"},
                      {"batch_size", options.batch_size},
                      {"base_lr", schedule.base_lr},
                      {"momentum", options.momentum},
                      {"weight_decay", options.weight_decay},
                      {"norm_bias_weight_decay", 0.0},
                      {"bias_lr_multiplier", options.bias_lr_multiplier},
                      {"warmup_iters", schedule.warmup_iters},
                      {"warmup_factor", schedule.warmup_factor},
                      {"milestones", schedule.milestones},
                      {"gamma", schedule.gamma}};
  config["augment"] = {{"flip_probability", options.flip_probability},
                       {"jitter", options.jitter},
                       {"image_size", options.image_size},
                       {"max_image_size", options.max_image_size}};
  config["seed"] = options.seed;
  config["train"] = {{"iterations", options.iterations}, {"data_dir", options.data_dir},
                     {"out_dir", options.out_dir},        {"checkpoint_every", options.checkpoint_every},
                     {"log_every", options.log_every},    {"val_every", options.val_every},
                     {"val_limit", options.val_limit}};
  return config.dump();
}

DetectionTarget device_target(const data::InstanceTarget& target, Device device) {
  return {target.boxes.to(device), target.labels.to(device), target.masks.to(device)};
}

ImageBatch image_batch(const Tensor& images, const std::vector<data::ImageGeometry>& geometry, Device device) {
  ImageBatch batch;
  batch.images = images.to(device);
  for (const data::ImageGeometry& g : geometry) batch.image_sizes.push_back({g.height, g.width});
  return batch;
}

std::vector<std::pair<std::string, double>> voc_metrics(const MaskRcnnValidation& validation) {
  const std::vector<double>& ap = validation.voc.all.mean_ap;
  return {{"val_images", static_cast<double>(validation.images)},
          {"mAP25", ap.at(0)},
          {"mAP50", ap.at(1)},
          {"mAP75", ap.at(2)},
          {"ABO", validation.voc.all.abo},
          {"detections", static_cast<double>(validation.detections)}};
}

void log_final_validation(const std::string& path, int64_t step, const MaskRcnnValidation& validation) {
  if (jsonl_log_has_event(path, "final_validation", step)) return;
  LogRecord record;
  record.add("step", step).add("event", "final_validation").add("split", "val");
  for (const auto& [name, value] : voc_metrics(validation)) record.add(name, value);
  const std::vector<double>& ap = validation.wise.all.mean_ap;
  record.add("wise_mAP25", ap.at(0)).add("wise_mAP50", ap.at(1)).add("wise_mAP75", ap.at(2));
  JsonlLog log = JsonlLog::resume(path, step);
  log.write(record);
}

}  // namespace

void apply_paper_preset(MaskRcnnTrainingOptions& options) {
  options.base_lr = 0.00125 * static_cast<double>(options.batch_size);
  options.momentum = 0.9;
  options.weight_decay = 1e-4;
  options.bias_lr_multiplier = 2.0;
  options.warmup_iters = 500;
  options.warmup_factor = 1.0 / 3.0;
}

MaskRcnnConfig mask_rcnn_config_of(const MaskRcnnTrainingOptions& options, int64_t num_classes) {
  MaskRcnnConfig config = mask_rcnn_config(backbone_config(options), num_classes + 1);
  config.rpn.anchor_generator.sizes.clear();
  for (float size : options.anchor_sizes) config.rpn.anchor_generator.sizes.push_back({size});
  config.rpn.batch_size_per_image = options.rpn_batch_size_per_image;
  config.rpn.pre_nms_top_n_train = options.rpn_pre_nms_top_n_train;
  config.rpn.post_nms_top_n_train = options.rpn_post_nms_top_n_train;
  config.rpn.pre_nms_top_n_test = options.rpn_pre_nms_top_n_test;
  config.rpn.post_nms_top_n_test = options.rpn_post_nms_top_n_test;
  config.roi_heads.box_head.representation_size = options.representation_size;
  config.roi_heads.mask_head.layers.assign(static_cast<size_t>(options.mask_layers), options.fpn_channels);
  config.roi_heads.mask_head.dim_reduced = options.fpn_channels;
  config.roi_heads.batch_size_per_image = options.box_batch_size_per_image;
  config.roi_heads.detections_per_img = options.detections_per_img;
  config.roi_heads.score_thresh = options.box_score_thresh;
  return config;
}

std::vector<data::Detection> predict_mask_rcnn(MaskRcnn& model, const data::Dataset& images,
                                               const std::string& image_folder, const MaskRcnnTrainingOptions& options,
                                               const std::function<void(int64_t, int64_t)>& on_batch) {
  data::LoaderOptions loader_options;
  loader_options.batch_size = options.val_batch_size;
  loader_options.shuffle = false;
  loader_options.num_workers = options.num_workers;
  loader_options.augment = augmentation(options, /*training=*/false);
  data::WeakLoader loader(data::weak_source_from_dataset(images, image_folder), loader_options);
  loader.start_epoch(0);
  std::vector<data::Detection> detections;
  int64_t done = 0;
  const int64_t total = static_cast<int64_t>(images.images.size());
  while (std::optional<data::WeakBatch> batch = loader.next()) {
    const std::vector<Detections> found = model.infer(image_batch(batch->images, batch->geometry, options.device));
    for (size_t n = 0; n < found.size(); ++n) {
      const data::ImageInfo& info = images.images[static_cast<size_t>(batch->indices[n])];
      for (data::Detection& d : coco_detections(found[n], info, batch->geometry[n], images.categories)) {
        detections.push_back(std::move(d));
      }
    }
    done += static_cast<int64_t>(found.size());
    if (on_batch) on_batch(done, total);
  }
  return detections;
}

MaskRcnnValidation validate_mask_rcnn(MaskRcnn& model, const DatasetSplit& split, int64_t limit,
                                      const MaskRcnnTrainingOptions& options, const std::string& results_path) {
  const auto start = std::chrono::steady_clock::now();
  const data::Dataset images = data::first_images(split.dataset, limit);
  MaskRcnnValidation validation;
  const std::vector<data::Detection> detections = predict_mask_rcnn(model, images, split.image_folder, options);
  validation.images = static_cast<int64_t>(images.images.size());
  validation.detections = static_cast<int64_t>(detections.size());
  if (!results_path.empty()) {
    data::write_coco_results(detections, results_path);
    validation.results_path = results_path;
  }
  BothProtocols scored = evaluate_both_protocols(images, detections);
  validation.voc = std::move(scored.voc);
  validation.wise = std::move(scored.wise);
  validation.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return validation;
}

MaskRcnnTrainingResult train_mask_rcnn(const MaskRcnnTrainingOptions& options) {
  check_options(options);
  kernels::require_device(options.device, "Mask R-CNN training");
  DatasetSplit train = read_dataset_split(options.data_dir, "train", "shapes-v2");
  if (!options.train_annotations.empty()) train.dataset = data::read_coco_dataset(options.train_annotations);
  const DatasetSplit val = read_dataset_split(options.data_dir, "val", "shapes-v2");
  WISE_CHECK(class_names_of(val.dataset) == class_names_of(train.dataset), options.data_dir,
             ": the val split's categories differ from the training annotations'");
  const int64_t num_classes = static_cast<int64_t>(train.dataset.categories.size());

  ParameterBuffer parameters;
  MaskRcnn model(mask_rcnn_config_of(options, num_classes), parameters);
  parameters.allocate(options.device);
  Generator init{options.seed, 0};
  model.initialize(init);
  if (!options.weights.empty()) model.load_backbone(options.weights);

  const std::unique_ptr<Optimizer> optimizer =
      make_optimizer(OptimizerKind::sgd, options.momentum, options.weight_decay, parameters, {}, options.bias_lr_multiplier);
  const LrScheduleOptions schedule_options = warmup_multistep(
      options.base_lr, options.warmup_iters, options.warmup_factor, options.milestones, options.iterations);
  const LrSchedule schedule(schedule_options);

  const int64_t train_images = static_cast<int64_t>(train.dataset.images.size());
  WISE_CHECK(train_images >= options.batch_size, options.data_dir, ": ", train_images,
             " training images, fewer than one batch of ", options.batch_size);
  data::LoaderOptions loader_options;
  shard_global_batch(loader_options, options.batch_size, options.communicator);
  loader_options.drop_last = true;
  loader_options.seed = options.seed;
  loader_options.num_workers = options.num_workers;
  loader_options.augment = augmentation(options, /*training=*/true);
  InstanceIterationBatches batches(data::instance_source_from_dataset(train.dataset, train.image_folder),
                                   loader_options);

  MaskRcnnTrainingResult result;
  result.train_images = train_images;
  for (const data::Annotation& annotation : train.dataset.annotations) result.train_instances += annotation.iscrowd ? 0 : 1;
  result.batches_per_epoch = batches.batches_per_epoch();

  TrainingState state{parameters, *optimizer, {}, {}};
  TrainingLoopOptions loop;
  loop.total_iterations = options.iterations;
  loop.checkpoint_every = options.checkpoint_every;
  loop.keep_last = options.keep_last;
  loop.log_every = options.log_every;
  loop.out_dir = options.out_dir;
  loop.resume = options.resume;
  loop.config_json = config_json(options, schedule_options, train.dataset.categories, train_images);
  loop.config_may_differ = {"train"};
  loop.progress_stream = options.progress_stream;
  loop.communicator = options.communicator;
  loop.validate_every = options.val_every;
  loop.validate = [&](int64_t) { return voc_metrics(validate_mask_rcnn(model, val, options.val_limit, options, "")); };

  const auto start = std::chrono::steady_clock::now();
  const StepFunction step = [&](int64_t iteration) {
    const data::InstanceBatch batch = batches.at(iteration);
    std::vector<DetectionTarget> targets;
    for (const data::InstanceTarget& target : batch.targets) targets.push_back(device_target(target, options.device));
    // The RPN's and RoI heads' samples: a stream of their own per iteration and rank
    // (2^40 positions each iteration, 2^32 of them each rank's: far more than a step
    // draws), so a resumed run draws the same and ranks do not draw alike.
    const uint64_t rank = options.communicator ? static_cast<uint64_t>(options.communicator->rank()) : 0;
    Generator sampling{options.seed + 1, (static_cast<uint64_t>(iteration) << 40) + (rank << 32)};
    const MaskRcnnLosses& losses =
        model.forward_training(image_batch(batch.images, batch.geometry, options.device), targets, sampling);
    model.backward();
    auto value = [](const Tensor& loss) { return static_cast<double>(loss.to_vector<float>()[0]); };
    return StepResult{{{"loss_classifier", value(losses.loss_classifier)},
                       {"loss_box_reg", value(losses.loss_box_reg)},
                       {"loss_mask", value(losses.loss_mask)},
                       {"loss_objectness", value(losses.loss_objectness)},
                       {"loss_rpn_box_reg", value(losses.loss_rpn_box_reg)}},
                      {{"epoch", static_cast<double>(batch.epoch)}}};
  };
  result.outcome = run_training_loop(state, schedule, loop, step);
  result.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (options.validate && leads_job(options.communicator) &&
      result.outcome.status == TrainingOutcome::Status::completed) {
    result.validation =
        validate_mask_rcnn(model, val, 0, options, (fs::path(options.out_dir) / "detections-val.json").string());
    result.validated = true;
    log_final_validation((fs::path(options.out_dir) / "log.jsonl").string(), result.outcome.iteration, result.validation);
  }
  return result;
}

std::string format_mask_rcnn_validation(const MaskRcnnValidation& validation) {
  char text[256];
  std::snprintf(text, sizeof(text), "mask mAP 25/50/75 (voc) %s, ABO %.3f; (wise) %s; %lld images, %lld detections, %.0f s",
                format_mean_ap(validation.voc).c_str(), validation.voc.all.abo, format_mean_ap(validation.wise).c_str(),
                static_cast<long long>(validation.images), static_cast<long long>(validation.detections),
                validation.seconds);
  return text;
}

}  // namespace wise

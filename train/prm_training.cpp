#include "train/prm_training.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "nn/ensure.h"
#include "nn/lr_schedule.h"
#include "train/data_parallel.h"
#include "train/jsonl_log.h"
#include "train/weak_data.h"

namespace wise {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// The backbone's parameter prefixes (torchvision's ResNet names); "classifier." is
// the head.
const std::vector<std::string> kBackbonePrefixes = {"conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "layer4."};

void check_options(const PrmTrainingOptions& options) {
  WISE_CHECK(!options.data_dir.empty(), "PRM training: the data folder (--data) is empty");
  WISE_CHECK(!options.out_dir.empty(), "PRM training: the output folder (--out) is empty");
  WISE_CHECK(options.iterations >= 1, "PRM training: iterations must be >= 1, got ", options.iterations);
  WISE_CHECK(options.batch_size >= 1, "PRM training: batch_size must be >= 1, got ", options.batch_size);
  WISE_CHECK(options.val_batch_size >= 1, "PRM training: val_batch_size must be >= 1, got ", options.val_batch_size);
  WISE_CHECK(options.base_lr > 0, "PRM training: the learning rate must be > 0, got ", options.base_lr);
  WISE_CHECK(options.backbone_lr_multiplier >= 0, "PRM training: backbone_lr_multiplier must be >= 0, got ",
             options.backbone_lr_multiplier);
  WISE_CHECK(options.upsample_factor >= 1, "PRM training: upsample_factor must be >= 1, got ",
             options.upsample_factor);
  WISE_CHECK(options.peak_window >= 1 && options.peak_window % 2 == 1,
             "PRM training: peak_window must be odd and >= 1, got ", options.peak_window);
  WISE_CHECK(!options.prm_baseline.enabled || options.validate,
             "PRM training: the PRM baseline runs on the val split, which validate = false (--no-val) skips");
  WISE_CHECK(options.peaks.fraction >= 0 && options.peaks.fraction <= 1,
             "PRM training: the peak fraction must be in [0, 1], got ", options.peaks.fraction);
  WISE_CHECK(options.pseudo_masks.nms_threshold >= 0 && options.pseudo_masks.nms_threshold <= 1,
             "PRM training: the pseudo masks' NMS threshold must be in [0, 1] (0: off), got ",
             options.pseudo_masks.nms_threshold);
  WISE_CHECK(options.training_peak_fraction >= 0 && options.training_peak_fraction <= 1,
             "PRM training: the training peak fraction must be in [0, 1] (0: the lower median), got ",
             options.training_peak_fraction);
  WISE_CHECK(options.flip_probability >= 0 && options.flip_probability <= 1,
             "PRM training: flip_probability must be in [0, 1], got ", options.flip_probability);
  WISE_CHECK(options.jitter >= 0 && options.jitter < 1, "PRM training: jitter must be in [0, 1), got ",
             options.jitter);
  dilation_for_output_stride(options.output_stride);  // checks it
  WISE_CHECK(options.image_size >= 0, "PRM training: image_size must be >= 0 (0: native), got ", options.image_size);
  WISE_CHECK(options.num_workers >= 0, "PRM training: num_workers must be >= 0, got ", options.num_workers);
}

// What a checkpoint must agree with on resume; "train" (paths, length, logging) may differ.
std::string config_json(const PrmTrainingOptions& options, const LrScheduleOptions& schedule, int64_t num_classes,
                        int64_t train_images) {
  Json config;
  config["model"] = {{"arch", "prm"},
                     {"depth", options.depth},
                     {"width_multiplier", options.width_multiplier},
                     {"output_stride", options.output_stride},
                     {"norm", normalization_name(options.norm)},
                     {"num_classes", num_classes},
                     {"weights", options.weights},
                     {"upsample_factor", options.upsample_factor}};
  // Omitted at PRM's rule, so that checkpoints written before the option existed resume.
  if (options.training_peak_fraction > 0) config["model"]["training_peak_fraction"] = options.training_peak_fraction;
  config["data"] = {{"train_images", train_images}};
  config["solver"] = {{"optimizer", optimizer_name(options.optimizer)},
                      {"batch_size", options.batch_size},
                      {"base_lr", schedule.base_lr},
                      {"backbone_lr_multiplier", options.backbone_lr_multiplier},
                      {"momentum", options.momentum},
                      {"weight_decay", options.weight_decay},
                      {"norm_bias_weight_decay", 0.0},
                      {"warmup_iters", schedule.warmup_iters},
                      {"warmup_factor", schedule.warmup_factor},
                      {"milestones", schedule.milestones},
                      {"gamma", schedule.gamma}};
  config["augment"] = {{"flip_probability", options.flip_probability},
                       {"jitter", options.jitter},
                       {"image_size", options.image_size}};
  config["seed"] = options.seed;
  config["train"] = {{"iterations", options.iterations}, {"data_dir", options.data_dir},
                     {"out_dir", options.out_dir},        {"checkpoint_every", options.checkpoint_every},
                     {"log_every", options.log_every}};
  return config.dump();
}

PrmConfig model_config(const PrmTrainingOptions& options, int64_t num_classes) {
  PrmConfig config;
  config.backbone.depth = options.depth;
  config.backbone.width_multiplier = options.width_multiplier;
  config.backbone.norm = options.norm;
  config.backbone.trainable_layers = 5;  // everything trains
  config.backbone.replace_stride_with_dilation = dilation_for_output_stride(options.output_stride);
  config.num_classes = num_classes;
  config.upsample_factor = options.upsample_factor;
  config.inference_peaks.window_size = options.peak_window;
  if (options.training_peak_fraction > 0) {
    config.peak_stimulation.threshold = PeakThreshold::fraction_of_max;
    config.peak_stimulation.threshold_value = options.training_peak_fraction;
  }
  config.kept_peak_fraction = options.peaks.fraction;  // the response maps' peaks: the counted ones
  config.dominant_peaks = options.peaks.dominant;
  return config;
}

// ---- Validation ----------------------------------------------------------------------

}  // namespace

namespace {

PrmValidation validate(PrmClassifier& model, const DatasetSplit& split, const PrmTrainingOptions& options) {
  data::LoaderOptions loader_options;
  loader_options.batch_size = options.val_batch_size;
  loader_options.shuffle = false;
  loader_options.num_workers = options.num_workers;
  loader_options.augment = weak_validation_augmentation(options.image_size);
  data::WeakLoader loader(data::weak_source_from_dataset(split.dataset, split.image_folder), loader_options);
  loader.start_epoch(0);

  std::map<int64_t, std::vector<const data::Annotation*>> instances;  // by image id
  for (const data::Annotation& annotation : split.dataset.annotations) {
    if (!annotation.iscrowd) instances[annotation.image_id].push_back(&annotation);
  }
  std::map<int64_t, const data::ImageInfo*> images_by_id;
  for (const data::ImageInfo& image : split.dataset.images) images_by_id[image.id] = &image;
  std::vector<int64_t> category_ids;
  for (const data::Category& category : split.dataset.categories) category_ids.push_back(category.id);

  const int64_t classes = model.num_classes();
  std::vector<float> scores, labels;
  PrmValidation validation;
  while (std::optional<data::WeakBatch> batch = loader.next()) {
    const PrmInference inference = model.infer(batch->images.to(options.device), /*response_maps=*/false);
    const Tensor maps = inference.upsampled_maps.to(Device::cpu);
    const std::vector<float> logits = inference.scores.to(Device::cpu).to_vector<float>();
    for (float logit : logits) {
      scores.push_back(static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(logit)))));  // sigmoid
    }
    const std::vector<float> batch_labels = batch->labels.to_vector<float>();
    labels.insert(labels.end(), batch_labels.begin(), batch_labels.end());
    for (size_t n = 0; n < batch->image_ids.size(); ++n) {
      const int64_t id = batch->image_ids[n];
      const data::ImageInfo& image = *images_by_id.at(id);
      std::vector<bool> predicted(static_cast<size_t>(classes));
      for (int64_t k = 0; k < classes; ++k) predicted[static_cast<size_t>(k)] = logits[n * classes + k] >= 0.0f;
      const std::vector<PixelPeak> peaks = image_peaks(inference, maps, static_cast<int64_t>(n), predicted,
                                                       category_ids, batch->geometry[n], batch->images.shape(),
                                                       options.peaks, model.backbone().stride(5));
      validation.peaks += peak_quality(instances[id], image.height, image.width, peaks);
      // The same with the image-level label's classes: what the pseudo masks of a
      // training image start from, the localisation without the classification's errors.
      std::vector<bool> labelled(static_cast<size_t>(classes));
      for (int64_t k = 0; k < classes; ++k) labelled[static_cast<size_t>(k)] = batch_labels[n * classes + k] > 0.5f;
      validation.labelled_peaks +=
          peak_quality(instances[id], image.height, image.width,
                       image_peaks(inference, maps, static_cast<int64_t>(n), labelled, category_ids, batch->geometry[n],
                                   batch->images.shape(), options.peaks, model.backbone().stride(5)));
    }
  }
  const int64_t images = static_cast<int64_t>(labels.size()) / classes;
  validation.classification = multilabel_metrics(scores, labels, images, classes);
  validation.class_names = class_names_of(split.dataset);
  return validation;
}

void log_validation(const std::string& path, int64_t step, const PrmValidation& validation) {
  if (jsonl_log_has_event(path, "validation", step)) return;
  const MultilabelMetrics& metrics = validation.classification;
  LogRecord record;
  record.add("step", step).add("event", "validation").add("split", "val").add("images", metrics.images);
  record.add("mAP", metrics.mean_average_precision).add("exact_match", metrics.exact_match);
  record.add("accuracy", metrics.accuracy);
  for (int64_t k = 0; k < metrics.classes; ++k) {
    record.add("AP_" + validation.class_names[k], metrics.average_precision[k]);
  }
  record.add("peak_recall", validation.peaks.recall()).add("peak_precision", validation.peaks.precision());
  record.add("instances", validation.peaks.instances).add("peaks", validation.peaks.peaks);
  record.add("labelled_peak_recall", validation.labelled_peaks.recall())
      .add("labelled_peak_precision", validation.labelled_peaks.precision())
      .add("labelled_peaks", validation.labelled_peaks.peaks);
  JsonlLog log = JsonlLog::resume(path, step);
  log.write(record);
}

}  // namespace

PrmTrainingResult train_prm(const PrmTrainingOptions& options) {
  check_options(options);
  kernels::require_device(options.device, "PRM training");
  const DatasetSplit train = read_dataset_split(options.data_dir, "train");
  const DatasetSplit val = options.validate ? read_dataset_split(options.data_dir, "val") : DatasetSplit{};
  const int64_t num_classes = static_cast<int64_t>(train.dataset.categories.size());
  if (options.validate) {
    WISE_CHECK(class_names_of(val.dataset) == class_names_of(train.dataset), options.data_dir,
               ": the val split's categories differ from the train split's");
  }

  // The model, its parameters in one buffer, and its initial weights.
  ParameterBuffer parameters;
  PrmClassifier model(model_config(options, num_classes), parameters);
  parameters.allocate(options.device);
  Generator init{options.seed, 0};
  model.initialize(init);
  if (!options.weights.empty()) model.load_backbone(options.weights);

  std::vector<LrMultiplierRule> multipliers;
  if (options.backbone_lr_multiplier != 1.0) multipliers.push_back({kBackbonePrefixes, options.backbone_lr_multiplier});
  const std::unique_ptr<Optimizer> optimizer =
      make_optimizer(options.optimizer, options.momentum, options.weight_decay, parameters, multipliers);
  const LrScheduleOptions schedule_options = warmup_multistep(
      options.base_lr, options.warmup_iters, options.warmup_factor, options.milestones, options.iterations);
  const LrSchedule schedule(schedule_options);

  IterationBatches batches = training_batches(
      train, options.data_dir, options.batch_size, options.seed, options.num_workers,
      weak_training_augmentation(options.flip_probability, options.jitter, options.image_size),
      options.communicator);
  const int64_t train_images = static_cast<int64_t>(train.dataset.images.size());

  PrmTrainingResult result;
  result.train_images = train_images;
  result.batches_per_epoch = batches.batches_per_epoch();

  TrainingState state{parameters, *optimizer, {}, {}};
  TrainingLoopOptions loop;
  loop.total_iterations = options.iterations;
  loop.checkpoint_every = options.checkpoint_every;
  loop.keep_last = options.keep_last;
  loop.log_every = options.log_every;
  loop.out_dir = options.out_dir;
  loop.resume = options.resume;
  loop.config_json = config_json(options, schedule_options, num_classes, train_images);
  loop.config_may_differ = {"train"};
  loop.progress_stream = options.progress_stream;
  loop.communicator = options.communicator;

  const StepFunction step = [&](int64_t iteration) {
    const data::WeakBatch batch = batches.at(iteration);
    const Tensor targets = batch.labels.to(options.device);
    const Tensor& scores = model.forward_training(batch.images.to(options.device));
    const Tensor& loss = model.loss(targets);
    model.backward_loss(nullptr);

    // The batch's decisions at score 0 (probability 0.5) that match the labels.
    const std::vector<float> host_scores = scores.to_vector<float>(), host_labels = batch.labels.to_vector<float>();
    int64_t correct = 0;
    for (size_t i = 0; i < host_scores.size(); ++i) correct += (host_scores[i] >= 0.0f) == (host_labels[i] == 1.0f);
    const double accuracy = static_cast<double>(correct) / static_cast<double>(host_scores.size());
    return StepResult{{{"loss_classifier", static_cast<double>(loss.to_vector<float>()[0])}},
                      {{"accuracy", accuracy}, {"epoch", static_cast<double>(batch.epoch)}}};
  };
  result.outcome = run_training_loop(state, schedule, loop, step);
  // What follows training: the per-image steps (pseudo masks, the baseline) split over the
  // job's ranks (train/rank_shards.h), validation and figures on rank 0. Every rank has
  // the same model, and the same outcome (the loop's stop flag is the job's).
  const bool completed = result.outcome.status == TrainingOutcome::Status::completed;
  const bool finish = leads_job(options.communicator) && completed;

  if (options.validate && finish) {
    result.validation = validate(model, val, options);
    result.validated = true;
    log_validation((fs::path(options.out_dir) / "log.jsonl").string(), result.outcome.iteration, result.validation);
  }
  if (options.pseudo_masks.enabled && completed) {
    PseudoMaskStepOptions pseudo = options.pseudo_masks;
    pseudo.device = options.device;
    pseudo.communicator = options.communicator;
    pseudo.peaks = options.peaks;  // one peak rule for val and pseudo masks
    std::string stem = std::string("pseudo_masks-") + pseudo_masks::selection_name(pseudo.selection.selection);
    if (pseudo.shard.count > 1)  // one file per shard: merge_shards --instances joins them
      stem += "-shard-" + std::to_string(pseudo.shard.index) + "-of-" + std::to_string(pseudo.shard.count);
    const fs::path out(options.out_dir);
    result.pseudo_masks = make_pseudo_masks(model, train, pseudo, (out / (stem + ".json")).string(),
                                            (out / (stem + "-results.json")).string());
    result.made_pseudo_masks = true;
  }
  if (options.figures.count > 0 && finish) {
    FigureStepOptions figures = options.figures;
    figures.selection = options.pseudo_masks.selection;
    figures.proposals = options.pseudo_masks.proposals;
    figures.peaks = options.peaks;
    figures.device = options.device;
    result.figures = make_figures(model, train, figures, (fs::path(options.out_dir) / "figures").string());
  }
  if (options.prm_baseline.enabled && completed) {
    PrmBaselineStepOptions baseline = options.prm_baseline;
    baseline.device = options.device;
    baseline.communicator = options.communicator;
    result.prm_baseline =
        run_prm_baseline(model, val, baseline, (fs::path(options.out_dir) / "prm_baseline-val.json").string());
    result.ran_prm_baseline = true;
  }

  return result;
}

}  // namespace wise

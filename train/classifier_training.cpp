#include "train/classifier_training.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "data/coco.h"
#include "data/loader.h"
#include "nn/ensure.h"
#include "nn/losses.h"
#include "nn/state_dict.h"
#include "train/data_parallel.h"
#include "train/jsonl_log.h"
#include "train/solver.h"
#include "train/weak_data.h"

namespace wise {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// ---- Configuration -------------------------------------------------------------------

// What a checkpoint must agree with on resume; "train" (paths, length, logging) may differ.
std::string config_json(const ClassifierTrainingOptions& options, const LrScheduleOptions& schedule,
                        int64_t num_classes, int64_t train_images) {
  Json config;
  config["model"] = {{"arch", "resnet"},
                     {"depth", options.depth},
                     {"width_multiplier", options.width_multiplier},
                     {"output_stride", options.output_stride},
                     {"norm", normalization_name(options.norm)},
                     {"num_classes", num_classes},
                     {"weights", options.weights}};
  config["data"] = {{"train_images", train_images}};
  config["solver"] = {{"optimizer", optimizer_name(options.optimizer)},
                      {"batch_size", options.batch_size},       {"base_lr", schedule.base_lr},
                      {"momentum", options.momentum},           {"weight_decay", options.weight_decay},
                      {"norm_bias_weight_decay", 0.0},          {"warmup_iters", schedule.warmup_iters},
                      {"warmup_factor", schedule.warmup_factor}, {"milestones", schedule.milestones},
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

// The body's parameters (and BN statistics) under torchvision's names: every
// parameter of the model but the fc head.
void export_body(const ParameterBuffer& parameters, const std::string& path) {
  NamedTensors body;
  for (const auto& [name, value] : parameters.named_values()) {
    if (name.rfind("fc.", 0) != 0) body.emplace_back(name, value);
  }
  write_tensors(path, body, {{"source", "train_classifier"}});
}

void check_options(const ClassifierTrainingOptions& options) {
  WISE_CHECK(!options.data_dir.empty(), "classifier training: the data folder (--data) is empty");
  WISE_CHECK(!options.out_dir.empty(), "classifier training: the output folder (--out) is empty");
  WISE_CHECK(options.iterations >= 1, "classifier training: iterations must be >= 1, got ", options.iterations);
  WISE_CHECK(options.batch_size >= 1, "classifier training: batch_size must be >= 1, got ", options.batch_size);
  WISE_CHECK(options.val_batch_size >= 1, "classifier training: val_batch_size must be >= 1, got ",
             options.val_batch_size);
  WISE_CHECK(options.base_lr > 0, "classifier training: the learning rate must be > 0, got ", options.base_lr);
  WISE_CHECK(options.num_workers >= 0, "classifier training: num_workers must be >= 0, got ", options.num_workers);
  WISE_CHECK(options.flip_probability >= 0 && options.flip_probability <= 1,
             "classifier training: flip_probability must be in [0, 1], got ", options.flip_probability);
  WISE_CHECK(options.image_size >= 0, "classifier training: image_size must be >= 0 (0: native), got ",
             options.image_size);
  WISE_CHECK(options.jitter >= 0 && options.jitter < 1, "classifier training: jitter must be in [0, 1), got ",
             options.jitter);
}

// ---- Validation ----------------------------------------------------------------------

ClassifierValidation validate(MultilabelClassifier& model, const DatasetSplit& split, const ClassifierTrainingOptions& options) {
  data::LoaderOptions loader_options;
  loader_options.batch_size = options.val_batch_size;
  loader_options.shuffle = false;
  loader_options.num_workers = options.num_workers;
  loader_options.augment = weak_validation_augmentation(options.image_size);
  data::WeakLoader loader(data::weak_source_from_dataset(split.dataset, split.image_folder), loader_options);
  loader.start_epoch(0);

  const int64_t classes = model.num_classes();
  std::vector<float> scores, labels;
  double loss_sum = 0;
  Tensor loss;
  while (std::optional<data::WeakBatch> batch = loader.next()) {
    const Tensor& logits = model.forward(batch->images.to(options.device), /*training=*/false);
    const Tensor targets = batch->labels.to(options.device);
    multilabel_soft_margin_forward(logits, targets, Tensor(), {}, loss);
    loss_sum += static_cast<double>(loss.to_vector<float>()[0]) * static_cast<double>(logits.size(0));
    for (float logit : logits.to_vector<float>()) {
      scores.push_back(static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(logit)))));  // sigmoid
    }
    const std::vector<float> batch_labels = batch->labels.to_vector<float>();
    labels.insert(labels.end(), batch_labels.begin(), batch_labels.end());
  }
  const int64_t images = static_cast<int64_t>(labels.size()) / classes;
  ClassifierValidation validation;
  validation.metrics = multilabel_metrics(scores, labels, images, classes);
  validation.loss = loss_sum / static_cast<double>(images);
  validation.class_names = class_names_of(split.dataset);
  return validation;
}

// True when the log already holds a validation record of `step` (a finished run
// resumed again validates again, but logs it once).
void log_validation(const std::string& path, int64_t step, const ClassifierValidation& validation) {
  if (jsonl_log_has_event(path, "validation", step)) return;
  const MultilabelMetrics& metrics = validation.metrics;
  LogRecord record;
  record.add("step", step).add("event", "validation").add("split", "val").add("images", metrics.images);
  record.add("val_loss", validation.loss).add("mAP", metrics.mean_average_precision);
  record.add("exact_match", metrics.exact_match).add("accuracy", metrics.accuracy);
  for (int64_t k = 0; k < metrics.classes; ++k) {
    record.add("AP_" + validation.class_names[k], metrics.average_precision[k]);
  }
  JsonlLog log = JsonlLog::resume(path, step);
  log.write(record);
}

}  // namespace


ClassifierTrainingResult train_multilabel_classifier(const ClassifierTrainingOptions& options) {
  check_options(options);
  kernels::require_device(options.device, "classifier training");
  const DatasetSplit train = read_dataset_split(options.data_dir, "train");
  const DatasetSplit val = options.validate ? read_dataset_split(options.data_dir, "val") : DatasetSplit{};
  const int64_t num_classes = static_cast<int64_t>(train.dataset.categories.size());
  if (options.validate) {
    WISE_CHECK(class_names_of(val.dataset) == class_names_of(train.dataset), options.data_dir,
               ": the val split's categories differ from the train split's");
  }

  // The model, its parameters in one buffer, and its initial weights.
  MultilabelClassifierConfig model_config;
  model_config.backbone.depth = options.depth;
  model_config.backbone.width_multiplier = options.width_multiplier;
  model_config.backbone.replace_stride_with_dilation = dilation_for_output_stride(options.output_stride);
  model_config.backbone.norm = options.norm;
  model_config.backbone.trainable_layers = 5;  // everything trains
  model_config.num_classes = num_classes;
  ParameterBuffer parameters;
  MultilabelClassifier model(model_config, parameters);
  parameters.allocate(options.device);
  Generator init{options.seed, 0};
  model.initialize(init);
  if (!options.weights.empty()) model.load_imagenet_body(options.weights);

  const std::unique_ptr<Optimizer> optimizer =
      make_optimizer(options.optimizer, options.momentum, options.weight_decay, parameters);
  const LrScheduleOptions schedule_options = warmup_multistep(
      options.base_lr, options.warmup_iters, options.warmup_factor, options.milestones, options.iterations);
  const LrSchedule schedule(schedule_options);

  IterationBatches batches = training_batches(
      train, options.data_dir, options.batch_size, options.seed, options.num_workers,
      weak_training_augmentation(options.flip_probability, options.jitter, options.image_size),
      options.communicator);
  const int64_t train_images = static_cast<int64_t>(train.dataset.images.size());

  ClassifierTrainingResult result;
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

  Tensor loss, d_logits;
  const Tensor d_loss = Tensor::from_vector<float>({1}, {1.0f}).to(options.device);
  const StepFunction step = [&](int64_t iteration) {
    const data::WeakBatch batch = batches.at(iteration);
    const Tensor targets = batch.labels.to(options.device);
    const Tensor& logits = model.forward(batch.images.to(options.device), /*training=*/true);
    multilabel_soft_margin_forward(logits, targets, Tensor(), {}, loss);
    ensure_tensor(d_logits, logits.shape(), DType::float32, options.device);
    d_logits.zero();
    multilabel_soft_margin_backward(d_loss, logits, targets, Tensor(), {}, d_logits);
    model.backward(d_logits, nullptr);

    // The batch's decisions at logit 0 (probability 0.5) that match the labels.
    const std::vector<float> host_logits = logits.to_vector<float>(), host_labels = batch.labels.to_vector<float>();
    int64_t correct = 0;
    for (size_t i = 0; i < host_logits.size(); ++i) correct += (host_logits[i] >= 0.0f) == (host_labels[i] == 1.0f);
    const double accuracy = static_cast<double>(correct) / static_cast<double>(host_logits.size());
    return StepResult{{{"loss_classifier", static_cast<double>(loss.to_vector<float>()[0])}},
                      {{"accuracy", accuracy}, {"epoch", static_cast<double>(batch.epoch)}}};
  };
  result.outcome = run_training_loop(state, schedule, loop, step);
  const bool finish = leads_job(options.communicator) && result.outcome.status == TrainingOutcome::Status::completed;
  if (!options.export_body.empty() && finish) export_body(parameters, options.export_body);

  if (options.validate && finish) {
    result.validation = validate(model, val, options);
    result.validated = true;
    log_validation((fs::path(options.out_dir) / "log.jsonl").string(), result.outcome.iteration, result.validation);
  }
  return result;
}

}  // namespace wise

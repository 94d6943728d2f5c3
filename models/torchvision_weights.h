// Loading ImageNet ResNet weights saved with torchvision's state-dict names.
//
// The file is safetensors with torchvision's keys (conv1.weight,
// bn1.running_mean, layer1.0.conv1.weight, ..., fc.weight): timm's
// resnet50.tv_in1k file, or a torchvision .pth converted offline by
// scripts/convert_torchvision_weights.py. Loading is a name lookup into the
// model's one ParameterBuffer: a file key K goes to the parameter prefix + K
// (models/resnet.h declares exactly torchvision's names, so nothing is renamed).
//
// Ignored file keys: the ImageNet classifier (fc.*) and BatchNorm's
// num_batches_tracked counters, which a detection backbone has no use for.
// Every other key must have a parameter and every parameter under `prefix` a
// key; otherwise the load fails before writing anything, naming the file and
// each missing or unexpected key (and shape or dtype mismatches by tensor).
// A group_norm ResNet cannot take BatchNorm weights: the running_* keys are
// reported unexpected.
#pragma once

#include <string>

#include "nn/parameter_buffer.h"
#include "nn/state_dict.h"

namespace wise {

// Targets: every parameter of `buffer` (which must be allocated) whose name
// starts with `prefix` ("" = all: then the buffer must hold the backbone only),
// except those under prefix + `head` (a classifier head the file need not have:
// "fc." for models/multilabel_classifier.h, "classifier." for models/prm.h), whose
// keys the file may also hold and are then ignored. Returns what was loaded and
// which file keys were ignored (report.unexpected).
LoadReport load_torchvision_weights(const std::string& path, ParameterBuffer& buffer,
                                    const std::string& prefix = "", const std::string& head = "");

// True for the file keys load_torchvision_weights skips (fc.*, *.num_batches_tracked).
bool is_ignored_torchvision_key(const std::string& key);

}  // namespace wise

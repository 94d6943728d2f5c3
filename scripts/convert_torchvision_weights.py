#!/usr/bin/python3
"""Converts a torchvision ResNet checkpoint (.pth) into safetensors for wise.

    /usr/bin/python3 scripts/convert_torchvision_weights.py resnet50-0676ba61.pth resnet50.safetensors

The input is what torch.save wrote: a state dict (torchvision's downloadable
weights), a dict holding one under "state_dict" or "model" (training
checkpoints), or a whole pickled nn.Module. The output keeps torchvision's key
names unchanged (conv1.weight, bn1.running_mean, layer1.0.conv1.weight, ...,
fc.weight: the names timm's resnet50.tv_in1k safetensors use too), so wise loads
it with load_torchvision_weights (models/torchvision_weights.h), which skips fc.*
and num_batches_tracked. Floating-point tensors are written as contiguous
float32; integer ones (num_batches_tracked) as int64. Metadata: {"source": the
input file's name, "arch": --arch, or guessed from the block count, with "_fpn"
when an FPN sits beside the ResNet, and "resnet_prefix" where the ResNet's keys
do not start at the top ("body." in resnet_fpn_backbone, "backbone.body." in a
Mask R-CNN)}. It prints the prefix that loads the file into wise's ResNet-FPN.

Runs once, offline, with any torch; needs no safetensors package (the format is
an 8-byte little-endian header size, a JSON header, then the raw tensor bytes).
"""

import argparse
import json
import os
import struct
import sys

import torch

# Blocks per stage -> architecture, and whether the blocks are bottlenecks (conv3).
ARCHITECTURES = {((2, 2, 2, 2), False): "resnet18", ((3, 4, 6, 3), False): "resnet34",
                 ((3, 4, 6, 3), True): "resnet50", ((3, 4, 23, 3), True): "resnet101",
                 ((3, 8, 36, 3), True): "resnet152"}


def load_state_dict(path):
    """The state dict inside whatever torch.save wrote to `path`."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # torch < 1.13 has no weights_only
        loaded = torch.load(path, map_location="cpu")
    if isinstance(loaded, torch.nn.Module):
        return loaded.state_dict()
    if isinstance(loaded, dict):
        for key in ("state_dict", "model"):
            if isinstance(loaded.get(key), dict):
                loaded = loaded[key]
                break
        tensors = {k: v for k, v in loaded.items() if isinstance(v, torch.Tensor)}
        if tensors:
            # DataParallel checkpoints prefix every key with "module.".
            if all(k.startswith("module.") for k in tensors):
                tensors = {k[len("module."):]: v for k, v in tensors.items()}
            return tensors
    raise SystemExit(f"{path}: expected a state dict, a checkpoint dict with 'state_dict' or 'model', "
                     f"or a pickled nn.Module; found {type(loaded).__name__}")


def resnet_prefix(state_dict):
    """Where the ResNet's keys start: "" in an ImageNet classifier, "body." in
    torchvision's resnet_fpn_backbone, "backbone.body." in a Mask R-CNN."""
    stems = [k[:-len("conv1.weight")] for k in state_dict
             if k.endswith("conv1.weight") and "layer" not in k]
    return min(stems, key=len) if stems else ""


def guess_arch(state_dict):
    """resnet18 ... resnet152 from the block counts, with "_fpn" when an FPN sits
    beside the ResNet (torchvision's "fpn." next to "body.")."""
    prefix = resnet_prefix(state_dict)
    blocks = []
    for stage in range(1, 5):
        head = f"{prefix}layer{stage}."
        indices = {int(k[len(head):].split(".")[0]) for k in state_dict if k.startswith(head)}
        blocks.append(max(indices) + 1 if indices else 0)
    bottleneck = any(k.startswith(prefix) and ".conv3." in k for k in state_dict)
    arch = ARCHITECTURES.get((tuple(blocks), bottleneck), "unknown")
    parent = prefix[:-len("body.")] if prefix.endswith("body.") else None
    if parent is not None and any(k.startswith(parent + "fpn.") for k in state_dict):
        arch += "_fpn"
    return arch


def wise_prefix(state_dict):
    """The prefix argument of load_torchvision_weights that loads this file into a
    ResNetFpnBackbone declared under "backbone." (the names wise's detectors use)."""
    # wise's name "backbone.body." + X is the file's resnet_prefix + X once the
    # loader strips its prefix argument: "backbone.body." for ImageNet keys,
    # "backbone." for resnet_fpn_backbone's body.*/fpn.*, "" for a Mask R-CNN's.
    wise, prefix = "backbone.body.", resnet_prefix(state_dict)
    return wise[:-len(prefix)] if prefix and wise.endswith(prefix) else (wise if not prefix else None)


def safetensors_bytes(state_dict, metadata):
    """8-byte LE header size, JSON header padded with spaces to a multiple of 8, raw data."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, tensor in state_dict.items():
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point():
            tensor, dtype = tensor.to(torch.float32), "F32"
        else:
            tensor, dtype = tensor.to(torch.int64), "I64"
        blob = tensor.contiguous().numpy().tobytes()  # little-endian on every torch host
        header[name] = {"dtype": dtype, "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def convert(source, destination, arch=None):
    """Writes `destination` from the checkpoint at `source`; returns (arch, tensor count)."""
    return write_converted(load_state_dict(source), source, destination, arch)


def write_converted(state_dict, source, destination, arch=None):
    arch = arch or guess_arch(state_dict)
    metadata = {"source": os.path.basename(source), "arch": arch}
    if resnet_prefix(state_dict):
        metadata["resnet_prefix"] = resnet_prefix(state_dict)
    data = safetensors_bytes(state_dict, metadata)
    temporary = destination + ".tmp"
    with open(temporary, "wb") as file:
        file.write(data)
    os.replace(temporary, destination)
    return arch, len(state_dict)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a .pth written by torch.save")
    parser.add_argument("destination", help="the .safetensors file to write")
    parser.add_argument("--arch", help="metadata 'arch' (default: guessed, e.g. resnet50)")
    args = parser.parse_args()
    state_dict = load_state_dict(args.source)
    arch, count = write_converted(state_dict, args.source, args.destination, args.arch)
    print(f"wrote {args.destination}: {count} tensors, arch {arch}")
    prefix = wise_prefix(state_dict)
    if prefix is not None:
        print(f"load it into a ResNetFpnBackbone declared under \"backbone.\" with "
              f"load_torchvision_weights(path, buffer, \"{prefix}\")")
    return 0


if __name__ == "__main__":
    sys.exit(main())

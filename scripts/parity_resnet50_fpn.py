#!/usr/bin/python3
"""Full-size parity of wise's ResNet-50-FPN backbone with torchvision's, run locally.

The committed fixtures check reduced widths at 36 x 28 (tests/models/resnet_fpn_parity_test.cpp);
this checks the real network: torchvision's resnet_fpn_backbone("resnet50", weights=None,
trainable_layers=3) (FrozenBatchNorm2d, FPN out_channels 256, LastLevelMaxPool), randomly
initialised with random FrozenBatchNorm2d statistics and FPN biases, on a 512 x 512 image.
It exports the state dict, the image, the outputs P2..P6 (eval) and, for random output
gradients, the image gradient and a sample of weight gradients (training mode) to a
temporary directory, then runs apps/bench/backbone_parity.cpp on it, which prints one row
per tensor and fails above relative error 1e-4 (of each tensor's largest magnitude).

    scripts/test.sh   # or any build of the CPU backend into build/cpu
    /usr/bin/python3 scripts/parity_resnet50_fpn.py [--binary build/cpu/apps/wise_backbone_parity]

Options: --size 512 (image side), --depth 50 (18, 34, 50, 101), --keep DIR (write the files
there and keep them), --seed 0. Needs torch and torchvision (Debian's python3-torch and
python3-torchvision: `scripts/setup.sh --peer`); without them it prints why and exits 77,
which ctest reports as skipped (tests/models/CMakeLists.txt runs it at 64 x 64 for every
depth). Takes a minute or two on a laptop CPU at full size.
"""

import argparse
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
SKIPPED = 77  # ctest's SKIP_RETURN_CODE for this script
try:
    import torch  # noqa: E402
    from torchvision.models.detection.backbone_utils import resnet_fpn_backbone  # noqa: E402
    from torchvision.ops import FrozenBatchNorm2d  # noqa: E402
except ImportError as error:
    print(f"skipped: {sys.executable} cannot import torch/torchvision ({error}); "
          "scripts/setup.sh --peer installs Debian's python3-torch and python3-torchvision")
    sys.exit(SKIPPED)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
from fixture_lib import safetensors_bytes  # noqa: E402  (the dependency-free writer)

TRAINABLE_LAYERS = 3
DEPTHS = (18, 34, 50, 101)


def build_backbone(depth):
    model = resnet_fpn_backbone(backbone_name=f"resnet{depth}", weights=None,
                                trainable_layers=TRAINABLE_LAYERS)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, FrozenBatchNorm2d):  # identity by default: make it count
                channels = module.weight.shape[0]
                module.weight.copy_(torch.rand(channels) * 0.4 + 0.4)
                module.bias.copy_(torch.randn(channels) * 0.1)
                module.running_mean.copy_(torch.randn(channels) * 0.1)
                module.running_var.copy_(torch.rand(channels) + 0.5)
        for name, parameter in model.fpn.named_parameters():
            if name.endswith("bias"):
                parameter.copy_(torch.randn(parameter.shape) * 0.1)
    return model


def gradient_sample(model):
    """Weight gradients compared (torchvision names under "backbone."), read from the
    model so that every depth gets its own: in each trainable stage, its first block's
    first conv and downsample and its last block's last conv; the FPN's first and last
    lateral and output convs, weight and bias."""
    names = [name for name, parameter in model.named_parameters() if parameter.requires_grad]
    sample = []
    for stage in sorted({name.split(".")[1] for name in names if name.startswith("body.")}):
        convs = [name for name in names if name.startswith(f"body.{stage}.") and
                 name.endswith(".weight") and (".conv" in name or ".downsample.0" in name)]
        sample += [convs[0], convs[-1]]
        sample += [name for name in convs if name == f"body.{stage}.0.downsample.0.weight"]
    for blocks in ("inner_blocks", "layer_blocks"):
        fpn = [name for name in names if name.startswith(f"fpn.{blocks}.")]
        sample += [fpn[0], fpn[1], fpn[-2], fpn[-1]]
    return list(dict.fromkeys(sample))


def write(path, tensors):
    with open(path, "wb") as file:
        file.write(safetensors_bytes(tensors, {"generator": "scripts/parity_resnet50_fpn.py",
                                               "torch": torch.__version__}))


def export(directory, depth, size):
    model = build_backbone(depth)
    write(os.path.join(directory, "weights.safetensors"),
          {"backbone." + name: value for name, value in model.state_dict().items()})
    images = torch.randn(1, 3, size, size)
    io = {"images": images}
    model.eval()
    with torch.no_grad():
        for i, output in enumerate(model(images).values()):
            io[f"P{i}"] = output
    model.train()  # FrozenBatchNorm2d: the same computation
    images_var = images.clone().requires_grad_(True)
    outputs = list(model(images_var).values())
    d_outputs = [torch.randn(output.shape) for output in outputs]
    torch.autograd.backward(outputs, d_outputs)
    io.update({f"d_P{i}": d for i, d in enumerate(d_outputs)})
    io["d_images"] = images_var.grad
    parameters = dict(model.named_parameters())
    for name in gradient_sample(model):
        io["grad.backbone." + name] = parameters[name].grad
    write(os.path.join(directory, "io.safetensors"), io)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "cpu", "apps",
                                                         "wise_backbone_parity"),
                        help="the built wise_backbone_parity (default: build/cpu/apps/...)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--depth", type=int, default=50, choices=DEPTHS)
    parser.add_argument("--keep", metavar="DIR", help="write the files here and keep them")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        parser.error(f"{args.binary} is not an executable; build the CPU backend first "
                     "(scripts/test.sh builds build/cpu) or pass --binary")
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or scratch
        os.makedirs(directory, exist_ok=True)
        print(f"exporting torchvision's resnet{args.depth}-FPN at {args.size}x{args.size} to {directory}")
        export(directory, args.depth, args.size)
        command = [args.binary, directory, "--depth", str(args.depth),
                   "--trainable-layers", str(TRAINABLE_LAYERS)]
        print(" ".join(command), flush=True)
        return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())

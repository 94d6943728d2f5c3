#!/usr/bin/python3
"""Full-size parity of wise's Mask R-CNN with torchvision's maskrcnn_resnet50_fpn, run locally.

The committed fixture checks a reduced network at 64 x 96 (tests/fixtures/
mask_rcnn_parity_test.cpp, from tests/fixtures/families/mask_rcnn.py); this checks the real
one: ResNet-50-FPN (FrozenBatchNorm2d, trainable_layers=3, 256 channels), torchvision's
RPN and RoI heads at every default (anchors 32..512, 2000 / 2000 proposals in training and
1000 / 1000 at test, 256 anchors and 512 RoIs sampled per image, representation 1024, four
256-channel mask convs), 91 classes, on two images of 512 x 512 and 448 x 384 (one 512 x
512 batch), with the family's randomisation (frozen norms, FPN and head biases, the RPN
head). It writes the family's file for that configuration (FULL) to a temporary directory
and runs the same C++ test on it (WISE_MASK_RCNN_PARITY_FILE): the RPN's training
proposals, the five losses within 1e-3 relative with torchvision's samples fed in, the
summed gradient of a weight per stage within 1e-3 of its largest, and the detections
(labels, boxes, scores, pasted masks IoU >= 0.99).

    scripts/test.sh   # or any build of the CPU backend into build/cpu
    /usr/bin/python3 scripts/parity_mask_rcnn.py [--binary build/cpu/tests/fixtures_test]

Options: --config full|reduced (reduced re-exports the committed fixture's network: what
ctest runs, in seconds), --keep DIR (write the file there and keep it), --seed 0. Needs
torch and torchvision 0.14 (Debian's python3-torch and python3-torchvision:
`scripts/setup.sh --peer`); without them it prints why and exits 77, which ctest reports
as skipped. Full size takes a few minutes on 2 cores (torchvision's five per-loss
backward passes are most of it).
"""

import argparse
import os
import subprocess
import sys
import tempfile

USER_THREADS = os.environ.get("OMP_NUM_THREADS")  # for wise's side
os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch's export: its float sums in one order
SKIPPED = 77  # ctest's SKIP_RETURN_CODE for this script
try:
    import torch  # noqa: E402
    import torchvision  # noqa: E402,F401
except ImportError as error:
    print(f"skipped: {sys.executable} cannot import torch/torchvision ({error}); "
          "scripts/setup.sh --peer installs Debian's python3-torch and python3-torchvision")
    sys.exit(SKIPPED)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
from fixture_lib import FIXTURE_VERSION, GENERATOR, safetensors_bytes  # noqa: E402
from families import mask_rcnn  # noqa: E402

CONFIGS = {"full": mask_rcnn.FULL, "reduced": mask_rcnn.REDUCED}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "cpu", "tests", "fixtures_test"))
    parser.add_argument("--config", choices=sorted(CONFIGS), default="full")
    parser.add_argument("--keep", help="write the file into this directory and keep it")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"parity_mask_rcnn.py: {args.binary} is not an executable (build the CPU backend first)")

    torch.manual_seed(args.seed)
    config = CONFIGS[args.config]
    print(f"torchvision {torchvision.__version__}: MaskRCNN {args.config} (ResNet-{config['depth']}-FPN, "
          f"{config['fpn_channels']} channels, {config['classes']} classes, images "
          f"{', '.join(f'{h}x{w}' for h, w in config['image_sizes'])}): exporting ...", flush=True)
    tensors = mask_rcnn.build(config)
    metadata = {"fixture_version": FIXTURE_VERSION, "generator": GENERATOR + " via scripts/parity_mask_rcnn.py",
                "torch": torch.__version__}
    data = safetensors_bytes(tensors, metadata)
    with tempfile.TemporaryDirectory() as temporary:
        directory = args.keep or temporary
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"mask_rcnn_{args.config}.safetensors")
        with open(path, "wb") as file:
            file.write(data)
        print(f"{path}: {len(data) / 1e6:.1f} MB; {len(tensors)} tensors", flush=True)
        env = dict(os.environ, WISE_MASK_RCNN_PARITY_FILE=os.path.abspath(path))
        if USER_THREADS is None:
            env.pop("OMP_NUM_THREADS")  # wise's side may use every core
        else:
            env["OMP_NUM_THREADS"] = USER_THREADS
        result = subprocess.run([args.binary, "--gtest_filter=*MaskRcnnParity*"], env=env)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()

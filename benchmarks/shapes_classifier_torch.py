#!/usr/bin/python3
"""A PyTorch twin of train_classifier (apps/train_classifier.cpp), to tell a bug in wise
from a hard task: the same reduced-width ResNet-18 (or a plain 4-conv network), the same
multilabel soft-margin loss, batch 16, SGD (momentum 0.9, weight decay 1e-4 off norms and
biases, 100-step warm-up from 1/3, x0.1 at 2/3 and 8/9) or Adam, horizontal flips, on a
shapes dataset written by make_shapes; prints the val (or held-out train) mAP per class.
Images are pre-loaded into memory, so its speed is not comparable with wise's (whose
steps also decode and augment PNGs).

    /usr/bin/python3 benchmarks/shapes_classifier_torch.py --data data/shapes-v1
    # the issue-15 note's runs: --iterations 4000 | --lr 0.02 --holdout |
    #   --head cam_max --no-stem-pool --lr 0.02 --holdout | --net plain --adam 1e-3 --iterations 400 --holdout |
    #   --data <8,000-image set> --adam 1e-3 --iterations 3000
    # issue 21's note (shapes-objects-v1): --adam 1e-3 --iterations 1500 [--net plain [--plain-pool average]]
"""

import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def load(root, split):
    """(images N x 3 x H x W normalised, multi-hot labels N x K) of one split."""
    d = json.load(open(f"{root}/annotations/{split}.json"))
    categories = [c["id"] for c in d["categories"]]
    position = {image["id"]: k for k, image in enumerate(d["images"])}
    labels = np.zeros((len(position), len(categories)), np.float32)
    for a in d["annotations"]:
        labels[position[a["image_id"]], categories.index(a["category_id"])] = 1
    images = np.stack([
        (np.asarray(Image.open(f"{root}/images/{split}/{image['file_name'].split('/')[-1]}").convert("RGB"),
                    np.float32) / 255 - MEAN) / STD for image in d["images"]]).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels)


class Block(nn.Module):
    def __init__(self, inputs, outputs, stride, dilation=1):
        super().__init__()
        self.c1 = nn.Conv2d(inputs, outputs, 3, stride, dilation, dilation, bias=False)
        self.b1 = nn.BatchNorm2d(outputs)
        self.c2 = nn.Conv2d(outputs, outputs, 3, 1, dilation, dilation, bias=False)
        self.b2 = nn.BatchNorm2d(outputs)
        self.down = None if stride == 1 and inputs == outputs else nn.Sequential(
            nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x):
        shortcut = x if self.down is None else self.down(x)
        return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))) + shortcut)


class ResNet18(nn.Module):
    """torchvision's ResNet-18 at wise's width rule: max(8, round(c m / 8) 8)."""

    def __init__(self, classes, width, head, stem_pool, output_stride=32, stem="imagenet"):
        super().__init__()
        w = lambda c: max(8, int(round(c * width / 8)) * 8)  # noqa: E731
        self.head, self.stem_pool = head, stem_pool
        # stem "small": a 3x3 stride-1 convolution (CIFAR ResNets' stem), so layer1 runs at
        # full resolution; the strides are then 1, 1, 2, 4, 8 before any dilation.
        stem_stride = 2 if stem == "imagenet" else 1
        self.conv = nn.Conv2d(3, w(64), 7 if stem == "imagenet" else 3, stem_stride, 3 if stem == "imagenet" else 1,
                              bias=False)
        self.bn = nn.BatchNorm2d(w(64))
        # output stride 16 or 8: layer4 (and layer3) keep their input's resolution and dilate
        # instead (DeepLab's rule), so the class maps stay local.
        layers, inputs, stride_so_far, dilation = [], w(64), stem_stride * (2 if stem_pool else 1), 1
        for outputs, stride in [(w(64), 1), (w(128), 2), (w(256), 2), (w(512), 2)]:
            first_dilation = dilation
            if stride == 2 and stride_so_far * 2 > output_stride:
                stride, dilation = 1, dilation * 2
            stride_so_far *= stride
            layers += [Block(inputs, outputs, stride, first_dilation), Block(outputs, outputs, 1, dilation)]
            inputs = outputs
        self.layers, self.fc = nn.Sequential(*layers), nn.Linear(inputs, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        if self.stem_pool:
            x = F.max_pool2d(x, 3, 2, 1)
        features = self.layers(x)
        if self.head == "average":
            return self.fc(features.mean((2, 3)))
        if self.head == "feature_max":
            return self.fc(features.amax((2, 3)))
        cam = torch.einsum("nchw,kc->nkhw", features, self.fc.weight) + self.fc.bias[None, :, None, None]
        if self.head == "psl":
            return peak_stimulation(cam)
        return cam.amax((2, 3))  # class score = the maximum of its class activation map


def peak_stimulation(cam):
    """PRM's peak stimulation: the mean of each map's 3x3 local maxima at or above its
    lower median."""
    flat = cam.flatten(2)
    median = flat.median(2, keepdim=True).values.unsqueeze(3)
    peaks = (F.max_pool2d(cam, 3, 1, 1) == cam) & (cam >= median)
    peaks = peaks.detach().float()
    return (cam * peaks).sum((2, 3)) / peaks.sum((2, 3)).clamp(min=1)


class Plain(nn.Module):
    """Four 3x3 conv + BN + ReLU + 2x2 max-pool stages, global max pooling."""

    def __init__(self, classes, pool="max"):
        super().__init__()
        self.pool = pool
        widths = [3, 32, 64, 128, 128]
        self.features = nn.Sequential(*[m for i in range(4) for m in (
            nn.Conv2d(widths[i], widths[i + 1], 3, 1, 1), nn.BatchNorm2d(widths[i + 1]), nn.ReLU(), nn.MaxPool2d(2))])
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        features = self.features(x)
        return self.fc(features.amax((2, 3)) if self.pool == "max" else features.mean((2, 3)))


def average_precision(scores, labels):
    order = np.argsort(-scores, kind="stable")
    hits = labels[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return (precision * hits).sum() / max(hits.sum(), 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/shapes-v1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=900)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--lr", type=float, default=0.1, help="SGD's base learning rate")
    parser.add_argument("--adam", type=float, default=0.0, help="use Adam with this learning rate instead of SGD")
    parser.add_argument("--net", choices=["resnet18", "plain"], default="resnet18")
    parser.add_argument("--head", choices=["average", "feature_max", "cam_max", "psl"], default="average")
    parser.add_argument("--no-stem-pool", action="store_true")
    parser.add_argument("--stem", choices=["imagenet", "small"], default="imagenet",
                        help="imagenet: 7x7/2 conv (+ max-pool); small: 3x3/1 conv (CIFAR ResNets)")
    parser.add_argument("--output-stride", type=int, choices=[8, 16, 32], default=32)
    parser.add_argument("--plain-pool", choices=["max", "average"], default="max",
                        help="the plain network's global pooling")
    parser.add_argument("--holdout", action="store_true", help="validate on the last 200 train images instead of val")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    train_x, train_y = load(args.data, "train")
    val_x, val_y = load(args.data, "val")
    if args.holdout:
        val_x, val_y, train_x, train_y = train_x[-200:], train_y[-200:], train_x[:-200], train_y[:-200]
    torch.manual_seed(0)
    classes = train_y.shape[1]
    net = (Plain(classes, args.plain_pool) if args.net == "plain" else
           ResNet18(classes, args.width, args.head, not args.no_stem_pool, args.output_stride, args.stem))
    if args.adam > 0:
        optimizer = torch.optim.Adam(net.parameters(), lr=args.adam)
        base = args.adam
    else:
        decay = [p for p in net.parameters() if p.ndim > 1]
        no_decay = [p for p in net.parameters() if p.ndim <= 1]
        optimizer = torch.optim.SGD([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0}],
                                    lr=args.lr, momentum=0.9)
        base = args.lr
    milestones = [args.iterations * 2 // 3, args.iterations * 8 // 9]

    def lr_at(i):
        warm = 1.0 if i >= 100 else (1 / 3) * (1 - i / 100) + i / 100
        return base * warm * 0.1 ** sum(i >= m for m in milestones) if args.adam == 0 else base

    generator = torch.Generator().manual_seed(1)
    batch, per_epoch, start = 16, len(train_x) // 16, time.time()
    for i in range(args.iterations):
        if i % per_epoch == 0:
            order = torch.randperm(len(train_x), generator=generator)
        index = order[(i % per_epoch) * batch:(i % per_epoch + 1) * batch]
        x = train_x[index]
        flip = torch.rand(batch, generator=generator) < 0.5
        x[flip] = x[flip].flip(3)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(i)
        net.train()
        loss = F.multilabel_soft_margin_loss(net(x), train_y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            print(f"step {i} loss {loss.item():.4f} {time.time() - start:.1f} s", flush=True)
    net.eval()
    with torch.no_grad():
        scores = torch.sigmoid(torch.cat([net(val_x[k:k + 50]) for k in range(0, len(val_x), 50)])).numpy()
    aps = [average_precision(scores[:, k], val_y.numpy()[:, k]) for k in range(classes)]
    print(f"{'held-out train' if args.holdout else 'val'} mAP {np.mean(aps):.3f} per class "
          f"{[round(float(a), 3) for a in aps]}; chance {val_y.numpy().mean():.3f}; {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()

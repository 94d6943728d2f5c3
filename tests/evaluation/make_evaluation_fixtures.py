#!/usr/bin/env python3
"""Writes the evaluation parity fixtures under tests/evaluation/files/.

A small random ground truth (8 images of about 155 x 165, 3 classes plus one class with
no ground truth, overlapping instances, VOC-like void bands, one crowd instance) and
perturbed / shuffled / duplicated / wrong-class / false-positive predictions, written as
COCO JSON (compressed RLE; void masks in the extra image field "wise_void"), and the
results computed independently of wise's C++:

  voc   a numpy transcription of chainercv's calc_instance_segmentation_voc_prec_rec and
        calc_instance_segmentation_voc_ap (best-IoU GT, no fallback, VOC 2010+ envelope
        area), with wise's documented extension for ignored GT (crowd regions after the
        regular GT, GT outside a size range), its stable tie rule and float32 IoU
        (evaluation/evaluation.h);
  wise  pycocotools' COCOeval (segm, iouThrs [.25 .5 .75], maxDets [N], its 4 area
        ranges) run on the masks with void pixels removed and predictions with
        score < 0.5 dropped, as WISE's code;
  ABO   numpy, mean over non-crowd GT of the best IoU with any scored prediction of the
        same image, whatever its class.

Every set of evaluation/evaluation.h is written: all, small / medium / large, and the images
with 1, 2, 3, 4, >4 objects. Run with the fixture venv from the repository root:
    .venv-fixtures/bin/python tests/evaluation/make_evaluation_fixtures.py
"""
import json
import os

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

VERSION = 1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
THRESHOLDS = [0.25, 0.5, 0.75]
CATEGORIES = [(1, "cat"), (3, "dog"), (7, "cow"), (9, "bird")]  # bird: no ground truth
SIZE_RANGES = {"small": (0, 32**2), "medium": (32**2, 96**2), "large": (96**2, 1e10)}
COUNT_SETS = {"1 object": 1, "2 objects": 2, "3 objects": 3, "4 objects": 4, ">4 objects": 5}

rng = np.random.default_rng(20240514)


# ---- the random set ----------------------------------------------------------------------

def ellipse(h, w, cy, cx, ry, rx):
    y, x = np.mgrid[0:h, 0:w]
    return ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0


def shift(mask, dy, dx):
    out = np.zeros_like(mask)
    h, w = mask.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = mask[ys, xs]
    return out


def dilate(mask):
    out = mask.copy()
    for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        out |= shift(mask, dy, dx)
    return out


def erode(mask):
    return ~dilate(~mask)


def random_object(h, w):
    size = rng.choice(["small", "medium", "large"], p=[0.35, 0.4, 0.25])
    radius = {"small": (3, 15), "medium": (18, 45), "large": (58, 72)}[size]
    ry, rx = rng.uniform(*radius), rng.uniform(*radius)
    spread = 0.1 if size == "large" else 0.3  # large ones stay mostly inside the image
    return ellipse(h, w, rng.uniform(0.5 - spread, 0.5 + spread) * h,
                   rng.uniform(0.5 - spread, 0.5 + spread) * w, ry, rx)


def make_ground_truth():
    counts = [0, 1, 1, 2, 3, 4, 5, 7]
    images, annotations = [], []
    for index, count in enumerate(counts):
        h, w = int(rng.integers(140, 171)), int(rng.integers(150, 181))
        image_id = 100 + 7 * ((index * 5) % 8)  # ascending ids differ from list order
        objects = []
        while len(objects) < count:
            mask = random_object(h, w)
            if mask.sum() >= 6:
                objects.append((int(rng.choice([1, 3, 7])), mask, False))
        if index == 6:  # a crowd region of class 1 (COCO's ignore)
            crowd = np.zeros((h, w), bool)
            crowd[5:45, 60:120] = True
            objects.append((1, crowd, True))
        void = np.zeros((h, w), bool)
        if index % 2 == 1 or index == 6:  # VOC-like: outer bands, inner bands of big ones
            for _, mask, _ in objects:
                void |= dilate(mask) & ~mask
                if mask.sum() > 300:
                    void |= mask & ~erode(mask)
            void[h - 8:h, 0:20] = True
        for _, mask, _ in objects:
            assert (mask & ~void).sum() > 0, "an instance must keep pixels outside the void"
        images.append({"id": image_id, "h": h, "w": w, "void": void if void.any() else None,
                       "objects": objects})
    return images


def perturbed(mask):
    out = shift(mask, int(rng.integers(-3, 4)), int(rng.integers(-3, 4)))
    step = rng.integers(0, 4)
    if step == 1:
        out = dilate(out)
    elif step == 2 and erode(out).sum() > 4:
        out = erode(out)
    flips = rng.random(out.shape) < 0.03
    return out ^ (flips & dilate(out))


def random_score():
    # Two decimals, so ties happen; float32 so the JSON holds exactly what C++ reads.
    return float(np.float32(np.round(rng.uniform(0.2, 1.0), 2)))


def make_predictions(images):
    predictions = []
    for image in images:
        h, w = image["h"], image["w"]
        for category, mask, crowd in image["objects"]:
            if crowd:  # predictions inside the crowd region
                for _ in range(3):
                    part = np.zeros((h, w), bool)
                    y, x = int(rng.integers(5, 30)), int(rng.integers(60, 100))
                    part[y:y + 12, x:x + 15] = True
                    predictions.append((image["id"], 1, random_score(), part))
                continue
            if rng.random() < 0.85:
                predictions.append((image["id"], category, random_score(), perturbed(mask)))
            while rng.random() < 0.3:  # duplicates, sometimes better scored
                predictions.append((image["id"], category, random_score(), perturbed(mask)))
            if rng.random() < 0.15:  # the right mask with the wrong class
                other = int(rng.choice([c for c in (1, 3, 7, 9) if c != category]))
                predictions.append((image["id"], other, random_score(), perturbed(mask)))
        for _ in range(int(rng.integers(1, 4))):  # false positives
            predictions.append((image["id"], int(rng.choice([1, 3, 7, 9])), random_score(),
                                random_object(h, w)))
        if image["objects"]:  # three same-class predictions of one object: maxDets 2 bites
            category, mask, _ = image["objects"][0]
            for _ in range(3):
                predictions.append((image["id"], category, float(np.float32(0.75)),
                                    perturbed(mask)))
    predictions.append((images[2]["id"], 3, 0.9, np.zeros((images[2]["h"], images[2]["w"]), bool)))
    order = rng.permutation(len(predictions))
    return [predictions[i] for i in order]


def rle(mask):
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(mask.shape[0]), int(mask.shape[1])],
            "counts": encoded["counts"].decode("ascii")}


# ---- independent references --------------------------------------------------------------

def iou_matrix(pred_masks, gt_masks, gt_crowd):
    """(P, G) float64: |p & g| / |p | g|, crowd columns |p & g| / |p|; 0 when empty."""
    if not pred_masks or not gt_masks:
        return np.zeros((len(pred_masks), len(gt_masks))), np.zeros((len(pred_masks), len(gt_masks)))
    p = np.stack([m.ravel() for m in pred_masks]).astype(np.float64)
    g = np.stack([m.ravel() for m in gt_masks]).astype(np.float64)
    inter = p @ g.T
    pa, ga = p.sum(1)[:, None], g.sum(1)[None, :]
    union = pa + ga - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    crowd = np.where(inter > 0, inter / np.maximum(pa, 1), 0.0)
    matching = np.where(np.array(gt_crowd)[None, :], crowd, iou)
    return iou, matching


def prepare(images, predictions, protocol, max_detections):
    """Per image (ascending id): GT, scored predictions (score desc, stable) and IoUs."""
    prepared = []
    for image in sorted(images, key=lambda i: i["id"]):
        keep = ~image["void"] if (protocol == "wise" and image["void"] is not None) else True
        gts = [(c, m & keep, crowd) for c, m, crowd in image["objects"]]
        preds = [p for p in predictions if p[0] == image["id"]]
        if protocol == "wise":
            preds = [p for p in preds if p[2] >= 0.5]  # the file's double, as WISE's code
        order = np.argsort(-np.array([p[2] for p in preds], np.float32), kind="stable")
        preds = [preds[i] for i in order]
        if protocol == "wise":
            taken, kept = {}, []
            for p in preds:
                taken[p[1]] = taken.get(p[1], 0) + 1
                if taken[p[1]] <= max_detections:
                    kept.append(p)
            preds = kept
        preds = [(c, np.float32(s), m & keep) for _, c, s, m in preds]
        iou, matching = iou_matrix([m for _, _, m in preds], [m for _, m, _ in gts],
                                   [crowd for _, _, crowd in gts])
        prepared.append({"id": image["id"], "h": image["h"], "w": image["w"], "gts": gts, "preds": preds, "iou": iou,
                         "matching": matching.astype(np.float32),
                         "objects": sum(1 for g in gts if not g[2])})
    return prepared


def voc_ap(pooled, positives):
    """chainercv's calc_instance_segmentation_voc_ap (use_07_metric=False)."""
    if positives == 0:
        return float("nan")
    pooled = [x for x in pooled if x[1] != "ignored"]
    scores = np.array([s for s, _ in pooled], np.float32)
    match = np.array([o == "tp" for _, o in pooled], bool)[np.argsort(-scores, kind="stable")]
    tp, fp = np.cumsum(match), np.cumsum(~match)
    prec = tp / np.maximum(tp + fp, 1)
    rec = tp / positives
    mpre = np.concatenate(([0], np.nan_to_num(prec), [0]))
    mrec = np.concatenate(([0], rec, [1]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def voc_reference(prepared, include, low, high):
    out = []
    for category, _ in CATEGORIES:
        pooled = [[] for _ in THRESHOLDS]
        positives = 0
        for image in prepared:
            if not include(image):
                continue
            gi = [j for j, g in enumerate(image["gts"]) if g[0] == category]
            ignored = [image["gts"][j][2] or not (low <= image["gts"][j][1].sum() <= high)
                       for j in gi]
            positives += sum(1 for x in ignored if not x)
            pi = [k for k, p in enumerate(image["preds"]) if p[0] == category]
            for t, threshold in enumerate(THRESHOLDS):
                selected = np.zeros(len(gi), bool)
                for k in pi:
                    score, area = image["preds"][k][1], image["preds"][k][2].sum()
                    outside = not (low <= area <= high)
                    row = image["matching"][k, gi] if gi else np.zeros(0, np.float32)
                    # Regular GT first; crowd regions only when none reaches the threshold.
                    regular = [j for j, g in enumerate(gi) if not image["gts"][g][2]]
                    in_crowd = any(row[j] >= threshold for j, g in enumerate(gi)
                                   if image["gts"][g][2])
                    best = regular[int(np.argmax(row[regular]))] if regular else -1
                    if best < 0 or row[best] < threshold:
                        outcome = "ignored" if in_crowd or outside else "fp"
                    elif ignored[best]:
                        outcome = "ignored"
                    elif selected[best]:
                        outcome = "fp"
                    else:
                        selected[best] = True
                        outcome = "tp"
                    pooled[t].append((score, outcome))
        out.append([voc_ap(pooled[t], positives) for t in range(len(THRESHOLDS))])
    return out


def coco_reference(prepared, include, area_label, max_detections):
    """pycocotools COCOeval on the prepared (voided, filtered) masks."""
    gt = {"images": [], "annotations": [], "categories": [{"id": c, "name": n} for c, n in CATEGORIES]}
    results = []
    for image in prepared:
        gt["images"].append({"id": image["id"], "height": image["h"], "width": image["w"]})
        for category, mask, crowd in image["gts"]:
            segmentation = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": image["id"],
                                      "category_id": category, "segmentation": segmentation,
                                      "area": float(mask.sum()), "iscrowd": int(crowd),
                                      "bbox": list(mask_utils.toBbox(segmentation))})
        for category, score, mask in image["preds"]:
            results.append({"image_id": image["id"], "category_id": category, "score": float(score),
                            "segmentation": mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))})
    coco_gt = COCO()
    coco_gt.dataset = gt
    coco_gt.createIndex()
    coco_dt = coco_gt.loadRes(results) if results else COCO()
    evaluation = COCOeval(coco_gt, coco_dt, "segm")
    evaluation.params.iouThrs = np.array(THRESHOLDS)
    evaluation.params.maxDets = [max_detections]
    evaluation.params.imgIds = [i["id"] for i in prepared if include(i)]
    evaluation.evaluate()
    evaluation.accumulate()
    a = evaluation.params.areaRngLbl.index(area_label)
    precision = evaluation.eval["precision"]  # [T, R, K, A, M], K in sorted category id order
    sorted_ids = sorted(c for c, _ in CATEGORIES)
    out = []
    for category, _ in CATEGORIES:
        k = sorted_ids.index(category)
        row = []
        for t in range(len(THRESHOLDS)):
            p = precision[t, :, k, a, 0]
            row.append(float(np.mean(p)) if (p > -1).any() else float("nan"))
        out.append(row)
    return out


def abo_reference(prepared, include, low, high):
    per_class = {c: [] for c, _ in CATEGORIES}
    for image in prepared:
        if not include(image):
            continue
        for j, (category, mask, crowd) in enumerate(image["gts"]):
            if crowd or not (low <= mask.sum() <= high):
                continue
            best = float(image["iou"][:, j].max()) if len(image["preds"]) else 0.0
            per_class[category].append(best)
    everything = [x for v in per_class.values() for x in v]
    return (float(np.mean(everything)) if everything else float("nan"),
            [float(np.mean(per_class[c])) if per_class[c] else float("nan") for c, _ in CATEGORIES],
            [len(per_class[c]) for c, _ in CATEGORIES])


def nan_to_none(values):
    if isinstance(values, list):
        return [nan_to_none(v) for v in values]
    return None if np.isnan(values) else values


def expected_sets(images, predictions, protocol, max_detections):
    prepared = prepare(images, predictions, protocol, max_detections)
    sets = {"all": (lambda i: True, (0, 1e10), "all")}
    for name, bounds in SIZE_RANGES.items():
        sets[name] = (lambda i: True, bounds, name)
    for name, count in COUNT_SETS.items():
        sets[name] = ((lambda i, c=count: i["objects"] == c) if count <= 4
                      else (lambda i: i["objects"] > 4), (0, 1e10), "all")
    out = {}
    for name, (include, (low, high), label) in sets.items():
        if protocol == "voc":
            class_ap = voc_reference(prepared, include, low, high)
        else:
            class_ap = coco_reference(prepared, include, label, max_detections)
        abo, class_abo, class_gt = abo_reference(prepared, include, low, high)
        mean_ap = [float(np.nanmean([row[t] for row in class_ap]))
                   if any(not np.isnan(row[t]) for row in class_ap) else float("nan")
                   for t in range(len(THRESHOLDS))]
        out[name] = {"images": sum(1 for i in prepared if include(i)),
                     "ground_truth": int(sum(class_gt)), "class_ground_truth": class_gt,
                     "class_ap": nan_to_none(class_ap), "mean_ap": nan_to_none(mean_ap),
                     "abo": nan_to_none(abo), "class_abo": nan_to_none(class_abo)}
    return out


def main():
    images = make_ground_truth()
    predictions = make_predictions(images)
    os.makedirs(OUT, exist_ok=True)
    dataset = {"images": [], "annotations": [],
               "categories": [{"id": c, "name": n} for c, n in CATEGORIES]}
    for image in images:
        entry = {"id": image["id"], "file_name": "%d.jpg" % image["id"],
                 "height": image["h"], "width": image["w"]}
        if image["void"] is not None:
            entry["wise_void"] = rle(image["void"])
        dataset["images"].append(entry)
        for category, mask, crowd in image["objects"]:
            encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            dataset["annotations"].append({
                "id": len(dataset["annotations"]) + 1, "image_id": image["id"],
                "category_id": category, "segmentation": rle(mask), "area": int(mask.sum()),
                "bbox": [float(v) for v in mask_utils.toBbox(encoded)], "iscrowd": int(crowd)})
    results = [{"image_id": i, "category_id": c, "score": s, "segmentation": rle(m)}
               for i, c, s, m in predictions]
    cases = {"voc": ("voc", 100), "wise": ("wise", 100), "wise_max2": ("wise", 2)}
    expected = {"version": VERSION, "generator": "tests/evaluation/make_evaluation_fixtures.py",
                "iou_thresholds": THRESHOLDS, "categories": [c for c, _ in CATEGORIES],
                "cases": {}}
    for name, (protocol, max_detections) in cases.items():
        expected["cases"][name] = {"protocol": protocol, "max_detections": max_detections,
                                   "sets": expected_sets(images, predictions, protocol,
                                                         max_detections)}
    for file_name, content in (("ground_truth.json", dataset), ("results.json", results),
                               ("expected.json", expected)):
        path = os.path.join(OUT, file_name)
        with open(path, "w") as f:
            json.dump(content, f, indent=None if file_name != "expected.json" else 1)
            f.write("\n")
        size = os.path.getsize(path)
        assert size <= 256 * 1024, "%s is %d bytes, over the 256 KiB cap" % (path, size)
        print("wrote %s (%d bytes)" % (path, size))
    summary = expected["cases"]
    for name in cases:
        print(name, "mAP", summary[name]["sets"]["all"]["mean_ap"], "ABO",
              summary[name]["sets"]["all"]["abo"])


if __name__ == "__main__":
    main()

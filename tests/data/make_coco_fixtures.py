#!/usr/bin/env python3
"""Writes the pycocotools fixtures that tests/data/coco_rle_parity_test.cpp compares with.

Run with the fixtures virtual environment (pycocotools from PyPI, numpy):

    .venv-fixtures/bin/python tests/data/make_coco_fixtures.py          # (re)write the files
    .venv-fixtures/bin/python tests/data/make_coco_fixtures.py --check  # do they match?

Files, all JSON under tests/data/files/coco/ (each well under 256 KiB):
  masks.json        masks and pycocotools' encode: compressed string, area, toBbox
  polygons.json     polygons (awkward ones included) and frPyObjects' string per polygon,
                    plus merge() of all of a case's polygons, its area and toBbox
  merge.json        sets of masks (compressed strings) and merge(), union and intersection
  instances.json    a small COCO instances file using polygons, uncompressed RLE and
                    compressed RLE (bbox/area absent on some annotations), a "wise_void"
  instances_expected.json  what pycocotools' COCO(...).annToRLE gives for each
                    annotation: compressed string, pixel area, toBbox; image-level labels

Masks are stored independently of RLE: one hex string per row, 4 pixels per digit, the
most significant bit first, rows padded to a multiple of 4 pixels.

Reproducible: numpy's seeded Generator; re-running writes the same bytes. Bump VERSION
(and kCocoFixtureVersion in coco_rle_parity_test.cpp) when a file's layout changes.
"""

import argparse
import json
import os
import sys
import tempfile

from importlib.metadata import version

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "files", "coco")
MAX_BYTES = 256 * 1024


def header():
    return {"version": VERSION, "generator": "tests/data/make_coco_fixtures.py",
            "pycocotools": version("pycocotools")}


def mask_rows(mask):
    """Row-major hex rows: 4 pixels per digit, most significant bit first."""
    height, width = mask.shape
    padded = np.zeros((height, (width + 3) // 4 * 4), dtype=np.uint8)
    padded[:, :width] = mask
    rows = []
    for y in range(height):
        bits = padded[y].reshape(-1, 4)
        digits = bits[:, 0] * 8 + bits[:, 1] * 4 + bits[:, 2] * 2 + bits[:, 3]
        rows.append("".join("0123456789abcdef"[d] for d in digits))
    return rows


def encode(mask):
    return mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))


def rle_facts(rle):
    return {"counts": rle["counts"].decode("ascii"), "area": int(mask_utils.area(rle)),
            "bbox": [float(v) for v in mask_utils.toBbox(rle)]}


# ---------------------------------------------------------------------------------------
# masks.json


def disc(height, width, cy, cx, r):
    y, x = np.mgrid[0:height, 0:width]
    return ((y - cy) ** 2 + (x - cx) ** 2 <= r * r).astype(np.uint8)


def make_masks(rng):
    cases = []

    def add(name, mask):
        rle = encode(mask)
        cases.append({"name": name, "height": int(mask.shape[0]), "width": int(mask.shape[1]),
                      "rows": mask_rows(mask), **rle_facts(rle)})

    add("empty_7x5", np.zeros((7, 5), np.uint8))
    add("full_6x9", np.ones((6, 9), np.uint8))
    single = np.zeros((4, 4), np.uint8); single[0, 0] = 1
    add("first_pixel", single)
    single = np.zeros((4, 4), np.uint8); single[3, 3] = 1
    add("last_pixel", single)
    add("row_1x13", (rng.random((1, 13)) < 0.5).astype(np.uint8))
    add("column_13x1", (rng.random((13, 1)) < 0.5).astype(np.uint8))
    add("one_pixel_on", np.ones((1, 1), np.uint8))
    add("one_pixel_off", np.zeros((1, 1), np.uint8))
    for i, density in enumerate([0.05, 0.3, 0.5, 0.7, 0.95]):
        for j in range(4):
            height, width = int(rng.integers(1, 41)), int(rng.integers(1, 41))
            add(f"random_d{density}_{j}", (rng.random((height, width)) < density).astype(np.uint8))
    # Long runs: deltas of many 5-bit groups, negative deltas, runs wrapping columns.
    big = np.zeros((200, 300), np.uint8)
    big[20:180, 30:250] = 1
    big[60:120, 100:140] = 0
    add("rectangle_with_hole_200x300", big)
    add("disc_150x220", disc(150, 220, 70.3, 101.7, 55.2))
    stripes = np.zeros((64, 96), np.uint8)
    stripes[:, ::3] = 1
    stripes[5:9, :] = 1
    add("stripes_64x96", stripes)
    blobs = disc(120, 160, 30, 40, 20) | disc(120, 160, 80, 120, 35) | disc(120, 160, 100, 10, 8)
    add("blobs_120x160", blobs)
    return cases


# ---------------------------------------------------------------------------------------
# polygons.json


def polygon_case(name, height, width, polygons):
    """frPyObjects per polygon (the first must have > 4 coordinates, else pycocotools
    reads the list as boxes) and merge() of them all, as annToRLE does."""
    assert len(polygons[0]) > 4
    rles = mask_utils.frPyObjects([list(map(float, p)) for p in polygons], height, width)
    merged = mask_utils.merge(rles)
    return {"name": name, "height": height, "width": width, "polygons": polygons,
            "counts": [r["counts"].decode("ascii") for r in rles],
            "merged": rle_facts(merged),
            "mask_rows": mask_rows(mask_utils.decode(merged))}


# Polygons whose masks change when `ys + s * t + .5` is computed with a fused
# multiply-add: found by running an -ffp-contract=fast build of data/rle_polygon.cpp over
# 4000 random polygons (14 differed); these guard the -ffp-contract=off it is built with.
FMA_SENSITIVE = [
    (69, 37, [23.79, -1.18, 28.61, 42.12, -1.06, 40.21, -2.35, 30.97, -3.57, -4.29, 0.02, 36.02, 7.01, 4.98]),
    (37, 24, [28.73, 29.18, 9.44, 26.22, 17.35, 0.16, -2.0, 17.43, 12.84, -3.53, 20.7, -0.73, 10.94, 26.64]),
    (106, 34, [0.06, 100.4, 19.05, 32.03, 10.44, 0.13]),
    (75, 43, [23.35, -0.02, 1.4, 54.58, -1.91, 56.8]),
    (92, 40, [34.6131120878955, 66.51652313056437, 22.74503184218827, 82.44841923844423,
              6.880411205813186, 19.74565424491295, 28.044488588530577, 17.628122516183964,
              4.537034541512856, 43.683498920729335]),
]


def make_polygons(rng):
    cases = []
    add = lambda *args: cases.append(polygon_case(*args))  # noqa: E731
    add("square", 10, 12, [[2, 2, 8, 2, 8, 7, 2, 7]])
    add("triangle_fractional", 20, 20, [[1.3, 2.7, 17.45, 4.12, 9.99, 18.5]])
    add("bowtie_self_intersecting", 16, 16, [[1, 1, 14, 14, 14, 1, 1, 14]])
    add("star_self_intersecting", 40, 40,
        [[20, 2, 31, 36, 2, 14, 38, 14, 9, 36]])
    add("touching_borders", 9, 11, [[0, 0, 10, 0, 10, 8, 0, 8]])
    add("half_pixel_borders", 9, 11, [[-0.5, -0.5, 10.5, -0.5, 10.5, 8.5, -0.5, 8.5]])
    add("image_size_borders", 9, 11, [[0, 0, 11, 0, 11, 9, 0, 9]])
    add("sub_pixel", 8, 8, [[3.1, 3.1, 3.3, 3.1, 3.2, 3.35]])
    add("sub_pixel_on_centre", 8, 8, [[2.9, 2.9, 3.1, 2.9, 3.0, 3.1]])
    add("outside_right", 10, 10, [[12, 2, 20, 2, 20, 8, 12, 8]])
    add("outside_left_negative", 10, 10, [[-9, 2, -2, 2, -2, 8, -9, 8]])
    add("straddling_all_borders", 10, 10, [[-3.7, -2.2, 13.1, -1.4, 12.6, 11.9, -2.8, 12.4]])
    # Negative coordinates near 0: (int)(5 * x + .5) truncates toward zero, not floor.
    add("negative_near_zero", 6, 6, [[-0.15, -0.25, 4.05, -0.09, 3.9, 4.4, -0.11, 4.2]])
    add("repeated_vertices", 12, 12, [[2, 2, 2, 2, 9, 2, 9, 2, 9, 9, 2, 9, 2, 9]])
    add("collinear", 12, 12, [[1, 1, 5, 5, 10, 10]])
    add("thin_diagonal_sliver", 30, 30, [[0.2, 0.1, 29.7, 28.9, 29.9, 29.6]])
    add("multi_part_overlapping", 30, 40,
        [[2, 2, 20, 2, 20, 20, 2, 20], [10, 10, 35, 10, 35, 28, 10, 28], [30, 1, 38, 1, 34, 6]])
    # Degenerate extra parts (1 and 2 points): allowed after a first polygon of > 4 values.
    add("degenerate_parts", 10, 10, [[1, 1, 8, 1, 5, 7], [3.2, 8.6], [0.4, 9.1, 9.3, 0.2]])
    # Vertex coordinates with 2 decimals (as COCO writes them), including x.x9/x.x1
    # values whose scaled rounding sits near .5, and slopes that hit boundaries.
    for i in range(30):
        height, width = int(rng.integers(8, 80)), int(rng.integers(8, 80))
        vertices = int(rng.integers(3, 14))
        xs = np.round(rng.uniform(-5, width + 5, vertices), 2)
        ys = np.round(rng.uniform(-5, height + 5, vertices), 2)
        add(f"random_{i}", height, width, [[float(v) for p in zip(xs, ys) for v in p]])
    for i in range(10):
        # Star-shaped (simple) polygons around a centre, full double precision.
        height, width = int(rng.integers(20, 90)), int(rng.integers(20, 90))
        vertices = int(rng.integers(5, 30))
        angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
        radius = rng.uniform(2, min(height, width) / 2, vertices)
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        xy = [float(v) for a, r in zip(angles, radius) for v in (cx + r * np.cos(a), cy + r * np.sin(a))]
        add(f"star_{i}", height, width, [xy])
    # Exact multiples of 1/5 and 1/10 (rounding ties in the upsampling).
    for i in range(6):
        height, width = int(rng.integers(10, 40)), int(rng.integers(10, 40))
        vertices = int(rng.integers(3, 9))
        xs = rng.integers(-10, 5 * width + 10, vertices) / 10.0
        ys = rng.integers(-10, 5 * height + 10, vertices) / 10.0
        add(f"tenths_{i}", height, width, [[float(v) for p in zip(xs, ys) for v in p]])
    for i, (height, width, xy) in enumerate(FMA_SENSITIVE):
        add(f"fma_sensitive_{i}", height, width, [xy])
    return cases


# ---------------------------------------------------------------------------------------
# merge.json


def make_merges(rng):
    cases = []
    for i in range(16):
        height, width = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        count = int(rng.integers(1, 5))
        masks = []
        for _ in range(count):
            kind = rng.integers(0, 3)
            if kind == 0:
                mask = (rng.random((height, width)) < rng.uniform(0.1, 0.9)).astype(np.uint8)
            elif kind == 1:
                mask = np.zeros((height, width), np.uint8)
                y0, x0 = rng.integers(0, height), rng.integers(0, width)
                mask[y0:y0 + rng.integers(1, height + 1), x0:x0 + rng.integers(1, width + 1)] = 1
            else:
                mask = np.zeros((height, width), np.uint8) if rng.random() < 0.5 else np.ones((height, width), np.uint8)
            masks.append(encode(mask))
        cases.append(merge_case(f"random_{i}", height, width, masks))
    # Non-canonical inputs (zero-length runs inside, as frPyObjects keeps them from an
    # uncompressed RLE): merge's run walk must treat them exactly like pycocotools.
    odd = mask_utils.frPyObjects({"size": [4, 5], "counts": [3, 0, 2, 4, 0, 0, 5, 6]}, 4, 5)
    plain = encode((np.arange(20).reshape(4, 5) % 3 == 0).astype(np.uint8))
    cases.append(merge_case("zero_length_runs", 4, 5, [odd, plain]))
    cases.append(merge_case("zero_length_runs_second", 4, 5, [plain, odd]))
    return cases


def merge_case(name, height, width, rles):
    return {"name": name, "height": height, "width": width,
            "inputs": [r["counts"].decode("ascii") for r in rles],
            "union": mask_utils.merge(rles, intersect=0)["counts"].decode("ascii"),
            "intersection": mask_utils.merge(rles, intersect=1)["counts"].decode("ascii")}


# ---------------------------------------------------------------------------------------
# instances.json and instances_expected.json


def make_instances(rng):
    images = [
        {"id": 4, "file_name": "a.jpg", "height": 30, "width": 40},
        {"id": 9, "file_name": "sub/b.png", "height": 25, "width": 20},
        {"id": 12, "file_name": "c.jpg", "height": 16, "width": 18},  # no annotations
    ]
    void = np.zeros((25, 20), np.uint8)
    void[0:2, :] = 1
    void_rle = encode(void)
    images[1]["wise_void"] = {"size": [25, 20], "counts": void_rle["counts"].decode("ascii")}
    categories = [{"id": 1, "name": "person", "supercategory": "person"},
                  {"id": 5, "name": "aeroplane"}, {"id": 17, "name": "cat"}]
    crowd = np.zeros((30, 40), np.uint8)
    crowd[20:29, 1:39] = 1
    # An uncompressed RLE written by hand from the mask (column-major runs).
    flat = crowd.flatten(order="F")
    runs, value, run = [], 0, 0
    for pixel in flat:
        if pixel != value:
            runs.append(run)
            run, value = 0, pixel
        run += 1
    runs.append(run)
    blob = disc(25, 20, 12.2, 9.4, 6.3)
    annotations = [
        {"id": 101, "image_id": 4, "category_id": 1, "iscrowd": 0, "area": 301.5,
         "bbox": [3.1, 2.2, 17.0, 14.9],
         "segmentation": [[3.1, 2.2, 20.1, 2.9, 18.4, 17.1, 4.0, 15.5]]},
        {"id": 102, "image_id": 4, "category_id": 17, "iscrowd": 0,
         "segmentation": [[22.5, 3.5, 37.2, 4.1, 30.3, 14.8], [24, 16, 36, 16, 36, 19, 24, 19]]},
        {"id": 103, "image_id": 4, "category_id": 1, "iscrowd": 1, "area": float(crowd.sum()),
         "bbox": [1, 20, 38, 9], "segmentation": {"size": [30, 40], "counts": runs}},
        {"id": 104, "image_id": 9, "category_id": 5, "iscrowd": 0,
         "segmentation": {"size": [25, 20], "counts": encode(blob)["counts"].decode("ascii")}},
        {"id": 105, "image_id": 9, "category_id": 5, "iscrowd": 0, "area": 12,
         "segmentation": [[1.5, 20.5, 5.5, 20.5, 5.5, 23.5, 1.5, 23.5]]},
    ]
    instances = {"info": {"description": "wise COCO reader fixture"}, "licenses": [],
                 "images": images, "categories": categories, "annotations": annotations}

    # What pycocotools makes of it.
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(instances, f)
        temp = f.name
    try:
        coco = COCO(temp)
    finally:
        os.unlink(temp)
    expected = []
    for ann in annotations:
        rle = coco.annToRLE(coco.anns[ann["id"]])
        if isinstance(rle["counts"], str):
            rle = dict(rle, counts=rle["counts"].encode("ascii"))
        expected.append({"id": ann["id"], **rle_facts(rle),
                         "file_area": ann.get("area"), "file_bbox": ann.get("bbox"),
                         "iscrowd": ann["iscrowd"]})
    labels = {str(img["id"]): sorted({a["category_id"] for a in annotations if a["image_id"] == img["id"]})
              for img in images}
    return instances, {"annotations": expected, "image_labels": labels,
                       "void_area": int(void.sum())}


# ---------------------------------------------------------------------------------------
# Command line


def build_files():
    rng = np.random.default_rng(20240614)
    instances, expected = make_instances(rng)
    return {
        "masks.json": {**header(), "cases": make_masks(rng)},
        "polygons.json": {**header(), "cases": make_polygons(rng)},
        "merge.json": {**header(), "cases": make_merges(rng)},
        # The instances file is read by our reader as is: no version header in it.
        "instances.json": instances,
        "instances_expected.json": {**header(), **expected},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    args = parser.parse_args()
    files = build_files()
    stale = []
    os.makedirs(OUT, exist_ok=True)
    for name, content in files.items():
        text = json.dumps(content, separators=(",", ":")) + "\n"
        if len(text) > MAX_BYTES:
            sys.exit(f"{name}: {len(text)} bytes, over the {MAX_BYTES}-byte cap")
        path = os.path.join(OUT, name)
        if args.check:
            with open(path) as f:
                if f.read() != text:
                    stale.append(name)
        else:
            with open(path, "w") as f:
                f.write(text)
            print(f"{path}: {len(text)} bytes")
    if stale:
        sys.exit("stale: " + ", ".join(stale) + "; re-run tests/data/make_coco_fixtures.py")


if __name__ == "__main__":
    main()

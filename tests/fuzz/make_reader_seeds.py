#!/usr/bin/env python3
"""Writes the seed corpora of the reader fuzz targets other than the safetensors header's
(make_seed_corpus.py) and the COCO instances reader's (hand-written files): for each, a
few valid inputs and one per kind of malformation, so the fuzzer starts past the checks.
Standard library only; deterministic.

    python3 tests/fuzz/make_reader_seeds.py     (writes corpus/<target>/ next to this script)
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
IMAGES = os.path.join(ROOT, "tests", "data", "files", "images")

# "52000": pycocotools' compressed string of a 4 x 5 mask (runs 5, 2, 0, 0, 0... as
# used in corpus/coco_dataset/crowd_and_polygon.json).
RLE_4x5 = {"size": [4, 5], "counts": "52000"}


def results():
    det = {"image_id": 1, "category_id": 1, "segmentation": RLE_4x5, "score": 0.9}
    return {
        "rle.json": [det],
        "polygon_and_list_rle.json": [
            {"image_id": 7, "category_id": 3, "segmentation": [[0, 0, 10, 0, 10, 12]], "score": 0.5},
            {"image_id": 1, "category_id": 3, "segmentation": {"size": [4, 5], "counts": [3, 4, 13]},
             "score": 0.4999999999},
        ],
        "bad_unknown_image.json": [dict(det, image_id=2)],
        "bad_unknown_category.json": [dict(det, category_id=99)],
        "bad_size.json": [dict(det, segmentation={"size": [5, 4], "counts": "52000"})],
        "bad_score.json": [dict(det, score="high")],
        "bad_not_array.json": {"annotations": [det]},
    }


def proposals():
    p = {"segmentation": RLE_4x5, "score": 0.75}
    # The proposal target's first two bytes choose the size: 3, 4 -> 4 x 5.
    return {
        "two.json": [p, dict(p, score=1.0, segmentation={"size": [4, 5], "counts": [0, 20]})],
        "empty.json": [],
        "bad_score_zero.json": [dict(p, score=0)],
        "bad_size.json": [dict(p, segmentation={"size": [4, 6], "counts": [24]})],
        "bad_runs.json": [dict(p, segmentation={"size": [4, 5], "counts": [3, 4]})],
        "bad_missing_score.json": [{"segmentation": RLE_4x5}],
    }


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    for name, value in sorted(results().items()):
        write("coco_results", name, json.dumps(value).encode())
    for name, value in sorted(proposals().items()):
        write("proposals", name, b"\x03\x04" + json.dumps(value).encode())
    # RLE target: height byte, width byte, form byte (even: string, odd: polygon).
    write("rle", "string_4x5", b"\x03\x04\x00" + b"52000")
    write("rle", "string_empty_mask", b"\x03\x04\x00" + b"d0")
    write("rle", "bad_string_short", b"\x03\x04\x00" + b"1")
    write("rle", "polygon_triangle", b"\x1f\x1f\x01" + struct.pack("<6d", 0, 0, 20, 0, 20, 25))
    write("rle", "polygon_nan", b"\x1f\x1f\x01" + struct.pack("<6d", 0, float("nan"), 20, 0, 20, 25))
    write("rle", "polygon_huge", b"\x1f\x1f\x01" + struct.pack("<6d", -1e300, 0, 1e300, 0, 5, 1e308))
    # Image target: first byte picks the reader (0-3: decode_image keeping / 1 / 3 / 4
    # channels, 4: the label-map reader); the rest is the committed test images.
    for file_name in sorted(os.listdir(IMAGES)):
        if not file_name.endswith((".png", ".jpg")) or file_name == "photo_decoded_by_pil.png":
            continue
        with open(os.path.join(IMAGES, file_name), "rb") as f:
            data = f.read()
        mode = 4 if file_name.startswith("labels") or file_name == "truncated_labels.png" else 0
        write("images", file_name, bytes([mode]) + data)
    os.makedirs(os.path.join(HERE, "corpus", "shapes_config"), exist_ok=True)
    for file_name in ("shapes-v1.json", "shapes-v2.json", "shapes-objects-v1.json"):
        shutil.copy(os.path.join(ROOT, "data", "shapes", "configs", file_name),
                    os.path.join(HERE, "corpus", "shapes_config", file_name))
    print("wrote the seeds under", os.path.join(HERE, "corpus"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generates the committed image fixtures of tests/data (image_io, palette PNG, VOC reader).

    /work/main/.venv-fixtures/bin/python tests/data/make_voc_fixture.py

writes, under tests/data/files/:

  images/      small PNGs (gray, RGB, RGBA, gray+alpha) whose pixels follow the formulas
               below, JPEGs (colour, gray, progressive, CMYK) with PIL's own decodes of them
               (the reference for wise's libjpeg-turbo decode),
               palette PNGs (8-bit VOC palette and 4-bit), and bad files: a truncated PNG and JPEG,
               a text file named .jpg, a JPEG with a corrupt header, an empty file.
  voc_tiny/    a PASCAL VOC 2012 layout (JPEGImages/, SegmentationObject/,
               SegmentationClass/, ImageSets/Segmentation/{train,val,bad}.txt) with a few
               tiny images: several instances incl. two of the same class, an instance whose
               class pixels disagree (majority vote), 255 void bands, an image with no
               objects; `bad.txt` lists one good image and one broken one per failure mode.
  images/expected.json, voc_tiny/expected.json
               what the readers must produce, computed here with numpy and pycocotools
               alone: per image its size, image-level labels, void pixel count and RLE,
               and per instance its class (majority), area, bbox and pycocotools RLE string.

The output is deterministic (no randomness); re-running it rewrites identical files.
Files are tiny (the whole output is well under 100 KiB).
"""
import io
import json
import pathlib

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

HERE = pathlib.Path(__file__).resolve().parent
FILES = HERE / "files"
IMAGES = FILES / "images"
VOC = FILES / "voc_tiny"


# --------------------------------------------------------------------------- images
def formula_rgb(height, width):
    """The pixels image_io_test.cpp recomputes: channel values from (x, y)."""
    y, x = np.mgrid[0:height, 0:width]
    red = (7 * x + 3 * y) % 256
    green = (11 * x + 5 * y + 40) % 256
    blue = (x * y) % 256
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def formula_gray(height, width):
    y, x = np.mgrid[0:height, 0:width]
    return ((13 * x + 17 * y) % 256).astype(np.uint8)


def formula_alpha(height, width):
    y, x = np.mgrid[0:height, 0:width]
    return ((20 * x + y + 1) % 256).astype(np.uint8)


def write_images():
    IMAGES.mkdir(parents=True, exist_ok=True)
    height, width = 10, 12
    rgb = formula_rgb(height, width)
    gray = formula_gray(height, width)
    alpha = formula_alpha(height, width)
    Image.fromarray(rgb, "RGB").save(IMAGES / "rgb.png")
    Image.fromarray(gray, "L").save(IMAGES / "gray.png")
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(IMAGES / "rgba.png")
    Image.fromarray(np.dstack([gray, alpha]), "LA").save(IMAGES / "gray_alpha.png")

    # A smooth photo-like JPEG, and PIL's (libjpeg's) decode of it, the reference that
    # wise's libjpeg-turbo decode must match (a different libjpeg build may round its
    # IDCT differently, by a level or so).
    y, x = np.mgrid[0:24, 0:32]
    photo = np.stack([8 * x, 10 * y, 255 - 4 * x - 3 * y], axis=-1).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(photo, "RGB").save(buffer, "JPEG", quality=90)
    (IMAGES / "photo.jpg").write_bytes(buffer.getvalue())
    decoded = np.asarray(Image.open(IMAGES / "photo.jpg").convert("RGB"))
    Image.fromarray(decoded, "RGB").save(IMAGES / "photo_decoded_by_pil.png")
    # The other layouts a JPEG reader meets: gray, progressive, and Adobe CMYK (stored
    # inverted, as Photoshop writes it), each beside PIL's decode to gray / RGB.
    photo_image = Image.fromarray(photo, "RGB")
    photo_image.convert("L").save(IMAGES / "gray.jpg", quality=90)
    photo_image.save(IMAGES / "progressive.jpg", quality=90, progressive=True)
    photo_image.convert("CMYK").save(IMAGES / "cmyk.jpg", quality=95)
    for name, mode in (("gray", "L"), ("progressive", "RGB"), ("cmyk", "RGB")):
        decoded = np.asarray(Image.open(IMAGES / f"{name}.jpg").convert(mode))
        Image.fromarray(decoded, mode).save(IMAGES / f"{name}_decoded_by_pil.png")

    # Palette PNGs: 8-bit with the VOC palette, and 4-bit (PIL packs a 16-colour
    # palette into 4 bits per pixel), whose indices the reader must unpack.
    labels = np.zeros((6, 7), np.uint8)
    labels[1:4, 1:3] = 1
    labels[2:5, 4:6] = 15
    labels[0, :] = 255
    voc = Image.fromarray(labels, "P")
    voc.putpalette(voc_palette_bytes())
    voc.save(IMAGES / "labels_voc.png")
    small = (np.arange(6 * 7).reshape(6, 7) % 16).astype(np.uint8)
    four_bit = Image.fromarray(small, "P")
    four_bit.putpalette([v for i in range(16) for v in (16 * i, 255 - 16 * i, 7 * i)])
    four_bit.save(IMAGES / "labels_4bit.png", bits=4)
    # The same label map stored as 8-bit gray (accepted as indices).
    Image.fromarray(labels, "L").save(IMAGES / "labels_gray.png")

    # Bad files.
    whole = (IMAGES / "rgb.png").read_bytes()
    (IMAGES / "truncated.png").write_bytes(whole[: len(whole) // 2])
    (IMAGES / "truncated_labels.png").write_bytes((IMAGES / "labels_voc.png").read_bytes()[:60])
    (IMAGES / "not_an_image.jpg").write_bytes(b"this is a text file, not a JPEG\n")
    (IMAGES / "empty.png").write_bytes(b"")
    jpeg = bytearray((IMAGES / "photo.jpg").read_bytes())
    # Corrupt the frame header (SOF0): a segment length of 5, shorter than any valid
    # frame header (>= 11 bytes), which decoders reject as corrupt.
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 2 : sof + 4] = b"\x00\x05"
    (IMAGES / "corrupt.jpg").write_bytes(bytes(jpeg))
    # A JPEG cut in its entropy-coded data: the header is whole, the pixels are not.
    whole = (IMAGES / "photo.jpg").read_bytes()
    scan = whole.index(b"\xff\xda")
    (IMAGES / "truncated.jpg").write_bytes(whole[: scan + (len(whole) - scan) // 2])

    return {
        "rgb": {"height": height, "width": width},
        "labels_voc": labels.flatten().tolist(),
        "labels_4bit": small.flatten().tolist(),
        "labels_shape": list(labels.shape),
    }


def voc_palette_bytes():
    """The devkit's labelcolormap(256), written independently of data/palette_png.cpp."""
    palette = []
    for index in range(256):
        red = green = blue = 0
        c = index
        for j in range(8):
            red |= ((c >> 0) & 1) << (7 - j)
            green |= ((c >> 1) & 1) << (7 - j)
            blue |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [red, green, blue]
    return palette


# --------------------------------------------------------------------------- VOC
# VOC class indices (devkit order): 1 aeroplane, 5 bottle, 8 cat, 12 dog, 15 person,
# 20 tvmonitor.
def add_instance(objects, classes, region, object_index, class_index):
    objects[region] = object_index
    classes[region] = class_index


def void_band(objects, classes):
    """VOC marks object outlines as 255: every background pixel 4-adjacent to an object."""
    inside = objects > 0
    near = np.zeros_like(inside)
    near[1:, :] |= inside[:-1, :]
    near[:-1, :] |= inside[1:, :]
    near[:, 1:] |= inside[:, :-1]
    near[:, :-1] |= inside[:, 1:]
    band = near & ~inside
    objects[band] = 255
    classes[band] = 255


def disk(height, width, cy, cx, radius):
    y, x = np.mgrid[0:height, 0:width]
    return (y - cy) ** 2 + (x - cx) ** 2 <= radius**2


def voc_images():
    """(voc_id, objects, classes) for the good images."""
    images = []

    # Two cats (same class) and a person; void bands around all three.
    h, w = 40, 48
    objects = np.zeros((h, w), np.uint8)
    classes = np.zeros((h, w), np.uint8)
    add_instance(objects, classes, (slice(5, 15), slice(4, 16)), 1, 8)
    add_instance(objects, classes, disk(h, w, 28, 12, 6), 2, 8)
    add_instance(objects, classes, (slice(8, 36), slice(30, 41)), 3, 15)
    void_band(objects, classes)
    images.append(("2007_000032", objects, classes))

    # A dog whose class pixels disagree (mostly dog, a corner labelled cat: the reader
    # takes the majority), and a bottle with instance index 3 (indices need not be
    # contiguous); a 2-row void stripe along the top.
    h, w = 36, 44
    objects = np.zeros((h, w), np.uint8)
    classes = np.zeros((h, w), np.uint8)
    add_instance(objects, classes, (slice(6, 30), slice(3, 25)), 1, 12)
    classes[6:10, 3:7] = 8
    add_instance(objects, classes, disk(h, w, 20, 34, 5), 3, 5)
    void_band(objects, classes)
    objects[0:2, :] = 255
    classes[0:2, :] = 255
    images.append(("2007_000039", objects, classes))

    # No objects at all (background and a void column): no labels, no instances.
    h, w = 32, 40
    objects = np.zeros((h, w), np.uint8)
    classes = np.zeros((h, w), np.uint8)
    objects[:, 20] = 255
    classes[:, 20] = 255
    images.append(("2008_000002", objects, classes))

    # Validation: an aeroplane, a tv monitor and a person.
    h, w = 40, 48
    objects = np.zeros((h, w), np.uint8)
    classes = np.zeros((h, w), np.uint8)
    add_instance(objects, classes, (slice(3, 12), slice(2, 30)), 1, 1)
    add_instance(objects, classes, (slice(20, 34), slice(5, 20)), 2, 20)
    add_instance(objects, classes, disk(h, w, 27, 36, 7), 3, 15)
    void_band(objects, classes)
    images.append(("2008_000008", objects, classes))
    return images


def save_label_map(array, path):
    image = Image.fromarray(array, "P")
    image.putpalette(voc_palette_bytes())
    image.save(path)


def save_photo(height, width, path, seed):
    y, x = np.mgrid[0:height, 0:width]
    photo = np.stack([(5 * x + seed) % 256, (7 * y + 3 * seed) % 256, (x + y) % 256], -1)
    Image.fromarray(photo.astype(np.uint8), "RGB").save(path, "JPEG", quality=75)


def rle_string(binary):
    rle = mask_utils.encode(np.asfortranarray(binary.astype(np.uint8)))
    return rle["counts"].decode("ascii")


def expected_image(voc_id, objects, classes):
    """What read_voc must return for one image, from numpy and pycocotools only."""
    height, width = objects.shape
    void = (objects == 255) | (classes == 255)
    instances = []
    for object_index in sorted(set(np.unique(objects).tolist()) - {0, 255}):
        binary = objects == object_index
        votes = classes[binary]
        votes = votes[(votes >= 1) & (votes <= 20)]
        values, counts = np.unique(votes, return_counts=True)
        category = int(values[np.argmax(counts)])  # ties: smallest class (argmax's first)
        rle = mask_utils.encode(np.asfortranarray(binary.astype(np.uint8)))
        instances.append({
            "object_index": object_index,
            "category_id": category,
            "area": int(binary.sum()),
            "bbox": [float(v) for v in mask_utils.toBbox(rle)],
            "rle": rle["counts"].decode("ascii"),
        })
    labels = sorted(set(np.unique(classes).tolist()) & set(range(1, 21)))
    return {
        "voc_id": voc_id,
        "file_name": f"JPEGImages/{voc_id}.jpg",
        "height": int(height),
        "width": int(width),
        "labels": labels,
        "void_pixels": int(void.sum()),
        "void_rle": rle_string(void),
        "instances": instances,
    }


def write_voc():
    for folder in ("JPEGImages", "SegmentationObject", "SegmentationClass", "ImageSets/Segmentation"):
        (VOC / folder).mkdir(parents=True, exist_ok=True)
    expected = {}
    images = voc_images()
    for seed, (voc_id, objects, classes) in enumerate(images):
        save_photo(*objects.shape, VOC / "JPEGImages" / f"{voc_id}.jpg", seed)
        save_label_map(objects, VOC / "SegmentationObject" / f"{voc_id}.png")
        save_label_map(classes, VOC / "SegmentationClass" / f"{voc_id}.png")
        expected[voc_id] = expected_image(voc_id, objects, classes)
    splits = {"train": ["2007_000032", "2007_000039", "2008_000002"], "val": ["2008_000008"]}

    # Broken images, one per failure mode, listed in bad.txt after a good one.
    def good_maps(h=20, w=24):
        objects = np.zeros((h, w), np.uint8)
        classes = np.zeros((h, w), np.uint8)
        add_instance(objects, classes, (slice(4, 10), slice(4, 12)), 1, 8)
        return objects, classes

    broken = {
        "2009_000001": "truncated SegmentationObject PNG",
        "2009_000002": "missing JPEG",
        "2009_000003": "text file named .jpg",
        "2009_000004": "class index 40 (not 1..20 or 255)",
        "2009_000005": "JPEG size differs from the label maps",
    }
    for voc_id in broken:
        objects, classes = good_maps()
        if voc_id == "2009_000004":
            classes[5, 5] = 40
        if voc_id != "2009_000002":
            size = (10, 10) if voc_id == "2009_000005" else objects.shape
            save_photo(*size, VOC / "JPEGImages" / f"{voc_id}.jpg", 7)
        if voc_id == "2009_000003":
            (VOC / "JPEGImages" / f"{voc_id}.jpg").write_bytes(b"not a JPEG\n")
        save_label_map(objects, VOC / "SegmentationObject" / f"{voc_id}.png")
        save_label_map(classes, VOC / "SegmentationClass" / f"{voc_id}.png")
        if voc_id == "2009_000001":
            path = VOC / "SegmentationObject" / f"{voc_id}.png"
            path.write_bytes(path.read_bytes()[:70])
    splits["bad"] = ["2007_000032"] + list(broken)

    for split, ids in splits.items():
        (VOC / "ImageSets/Segmentation" / f"{split}.txt").write_text("".join(i + "\n" for i in ids))
    return {
        "splits": splits,
        "images": expected,
        "broken": broken,
    }


def main():
    images = write_images()
    voc = write_voc()
    (IMAGES / "expected.json").write_text(json.dumps(images, indent=1, sort_keys=True) + "\n")
    (VOC / "expected.json").write_text(json.dumps(voc, indent=1, sort_keys=True) + "\n")
    files = [p for folder in (IMAGES, VOC) for p in folder.rglob("*") if p.is_file()]
    print(f"wrote {len(files)} files, {sum(p.stat().st_size for p in files)} bytes")


if __name__ == "__main__":
    main()

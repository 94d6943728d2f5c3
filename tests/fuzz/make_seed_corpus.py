#!/usr/bin/env python3
"""Writes the seed corpus for tests/fuzz/fuzz_safetensors_header.cpp.

Small safetensors files, valid and malformed (one per malformation kind of
weights/safetensors_format.h), so the fuzzer starts from inputs that already reach every
check. Standard library only; the output is deterministic.

    python3 tests/fuzz/make_seed_corpus.py [out_dir]   (default: corpus/safetensors_header
                                                         next to this script)
"""
import json
import os
import struct
import sys


def header(obj, pad_to_8=True):
    """8-byte little-endian size + compact JSON, padded with spaces like real writers."""
    text = json.dumps(obj, separators=(",", ":")).encode()
    if pad_to_8:
        text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text


def raw(json_text, data=b""):
    """A file whose header is the given JSON text verbatim (for malformed JSON)."""
    text = json_text.encode()
    return struct.pack("<Q", len(text)) + text + data


def tensor(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def seeds():
    f32x2 = tensor("F32", [2], 0, 8)
    return {
        # Valid files.
        "valid_empty": header({}),
        "valid_one_f32": header({"w": f32x2}) + bytes(8),
        "valid_many_dtypes": header({
            "__metadata__": {"format": "pt", "note": "caf\u00e9"},
            "a": tensor("F16", [2, 2], 0, 8),
            "b": tensor("BF16", [1], 8, 10),
            "c": tensor("I64", [], 10, 18),
            "d": tensor("BOOL", [0, 5], 18, 18),
            "e": tensor("U8", [3], 18, 21),
            "f": tensor("F64", [1, 1], 21, 29),
        }) + bytes(range(29)),
        "valid_unpadded": header({"w": f32x2}, pad_to_8=False) + bytes(8),
        # Malformed files, one per error kind.
        "bad_short_file": b"\x10\x00\x00",
        "bad_header_too_large": struct.pack("<Q", 100_000_001) + b"{}",
        "bad_header_past_eof": struct.pack("<Q", 64) + b"{}",
        "bad_truncated_data": header({"w": f32x2}) + bytes(5),
        "bad_json": raw('{"w":{"dtype":"F32",'),
        "bad_not_object": raw("[1,2,3]"),
        "bad_duplicate_key": raw('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                                 '"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', bytes(16)),
        "bad_missing_dtype": header({"w": {"shape": [2], "data_offsets": [0, 8]}}) + bytes(8),
        "bad_unknown_dtype": header({"w": tensor("F33", [2], 0, 8)}) + bytes(8),
        "bad_negative_dim": header({"w": tensor("F32", [-2], 0, 8)}) + bytes(8),
        "bad_reversed_offsets": header({"w": tensor("F32", [2], 8, 0)}) + bytes(8),
        "bad_out_of_range": header({"a": f32x2, "b": tensor("F32", [2], 100, 108)}) + bytes(16),
        "bad_size_mismatch": header({"w": tensor("F32", [3], 0, 8)}) + bytes(8),
        "bad_overlap": header({"a": f32x2, "b": tensor("F32", [2], 4, 12)}) + bytes(12),
        "bad_gap": header({"a": f32x2, "b": tensor("F32", [2], 12, 20)}) + bytes(20),
        "bad_trailing": header({"w": f32x2}) + bytes(12),
        "bad_metadata": header({"__metadata__": {"epoch": 3}, "w": f32x2}) + bytes(8),
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "safetensors_header")
    os.makedirs(out_dir, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds())} seeds to {out_dir}")


if __name__ == "__main__":
    main()

"""Seeded mutation fuzzing of every reader: annotation files (VOC, YOLO, CreateML, COCO) and images (PNG 8 and
16-bit colour, TIFF, JPEG, DICOM uncompressed and JPEG-LS).

Each format starts from valid files we write ourselves and mutates them (bytes changed, inserted, cut, numbers
replaced by hostile ones). Each input must give a document or a project error (ImplantDeskError); anything else
is an undefined exception, listed with its input. A crash of the process (the imagecodecs PNG abort of issue 16)
ends the run. Prints per format: inputs, clean errors, undefined exceptions, the slowest input.

    python benchmarks/fuzz_formats.py [--inputs 10000] [--seconds 120] [--seed 0] [--formats voc,png16,...]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from implant_desk.core.annotations import coco, createml, voc, yolo  # noqa: E402
from implant_desk.core.annotations.model import Box, ImageAnnotation  # noqa: E402
from implant_desk.core.errors import ImplantDeskError  # noqa: E402
from implant_desk.core.imaging.loading import load_radiograph  # noqa: E402

HOSTILE_NUMBERS = [b"nan", b"inf", b"-inf", b"1e400", b"NaN", b"Infinity", b"-1", b"0", b"9" * 30, b"1" * 5000,
                   b"-0", b"1e-400", b"0x1F", b"\xc3\xa9", b'"', b"<", b"&", b"null", b"[]", b"{}"]


def seeds(folder: Path) -> dict[str, tuple[list[bytes], str]]:
    """format -> (valid files, suffix)."""
    from PIL import Image
    import imagecodecs
    import tifffile

    sys.path.insert(0, str(ROOT / "tests" / "core"))
    from imaging_samples import write_dicom, write_jpeg_ls_dicom  # the test suite's DICOM builders

    boxes = [Box("Implant", 10, 20, 110, 220, difficult=True), Box("Crown", 1, 2, 30, 40)]
    annotation = ImageAnnotation("a.png", 640, 480, 1, boxes, verified=True)
    rng = np.random.default_rng(0)
    grey8 = rng.integers(0, 255, (48, 64), dtype=np.uint8)
    colour16 = rng.integers(0, 65535, (48, 64, 3), dtype=np.uint16)

    def encoded(save) -> bytes:
        buffer = io.BytesIO()
        save(buffer)
        return buffer.getvalue()

    dicom = folder / "seed.dcm"
    write_dicom(dicom, rng.integers(0, 4095, (48, 64), dtype=np.uint16))
    jpeg_ls = write_jpeg_ls_dicom(folder / "seed-jpegls.dcm", rng.integers(0, 4095, (48, 64), dtype=np.uint16))
    return {
        "voc": ([voc.voc_to_bytes(annotation)], ".xml"),
        "yolo": ([yolo.yolo_to_string(annotation, ["Implant", "Crown"]).encode()], ".txt"),
        "createml": ([createml.createml_to_bytes(annotation)], ".json"),
        "coco": ([json.dumps(coco.coco_to_dict([annotation])).encode()], ".json"),
        "png8": ([encoded(lambda b: Image.fromarray(grey8).save(b, format="PNG"))], ".png"),
        "png16": ([imagecodecs.png_encode(colour16)], ".png"),
        "tiff": ([encoded(lambda b: tifffile.imwrite(b, colour16, photometric="rgb", compression=c))
                  for c in (None, "zlib", "lzw")], ".tif"),
        "jpeg": ([encoded(lambda b: Image.fromarray(grey8).save(b, format="JPEG"))], ".jpg"),
        "dicom": ([dicom.read_bytes()], ".dcm"),
        "dicom-jls": ([jpeg_ls.read_bytes()], ".dcm"),  # CharLS took seconds on a frame cut short (issue 16)
    }


def reader(fmt: str):
    if fmt == "voc":
        return voc.read_voc
    if fmt == "yolo":
        return lambda path: yolo.read_yolo(path, (640, 480), ["Implant", "Crown"])
    if fmt == "createml":
        return lambda path: createml.read_createml(path, "a.png", (640, 480))
    if fmt == "coco":
        return coco.read_coco
    return load_radiograph


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6)
        position = rng.randrange(len(data) + 1)
        if kind == 0 and data:  # change bytes
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:  # cut
            data = data[:position]
        elif kind == 2:  # a hostile number over a run of digits
            digits = [i for i in range(len(data)) if 48 <= data[i] <= 57]
            if digits:
                start = rng.choice(digits)
                end = start
                while end < len(data) and 48 <= data[end] <= 57:
                    end += 1
                data[start:end] = rng.choice(HOSTILE_NUMBERS)
        elif kind == 3:  # insert bytes
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif kind == 4 and data:  # repeat a slice (floods, nesting)
            start = rng.randrange(len(data))
            piece = data[start : start + rng.randint(1, 64)]
            data[position:position] = piece * rng.randint(2, 2000)
        elif kind == 5 and data:  # drop a slice
            del data[position : position + rng.randint(1, 64)]
    return bytes(data)


def fuzz(fmt: str, files: list[bytes], suffix: str, folder: Path, inputs: int, seconds: float, seed: int) -> dict:
    rng = random.Random(f"{seed}/{fmt}")
    read = reader(fmt)
    path = folder / f"input{suffix}"
    clean = undefined = done = 0
    slowest, slowest_input, examples = 0.0, b"", []
    deadline = time.monotonic() + seconds
    while done < inputs and time.monotonic() < deadline:
        data = mutate(rng.choice(files), rng)
        path.write_bytes(data)
        start = time.perf_counter()
        try:
            read(path)
        except ImplantDeskError:
            clean += 1
        except Exception as exc:  # noqa: BLE001 - what this script counts
            undefined += 1
            if len(examples) < 3:
                examples.append(f"{type(exc).__name__}: {exc}"[:160])
                (folder / f"undefined-{fmt}-{len(examples)}{suffix}").write_bytes(data)
        elapsed = time.perf_counter() - start
        if elapsed > slowest:
            slowest, slowest_input = elapsed, data
        done += 1
    (folder / f"slowest-{fmt}{suffix}").write_bytes(slowest_input)
    return {"format": fmt, "inputs": done, "clean errors": clean, "undefined": undefined,
            "slowest s": round(slowest, 3), "slowest bytes": len(slowest_input), "examples": examples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per format (default 10,000)")
    parser.add_argument("--seconds", type=float, default=120, help="time bound per format (default 120)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--keep", type=Path, help="folder to keep the slowest and undefined inputs in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        formats = seeds(folder)
        wanted = [f for f in args.formats.split(",") if f] or list(formats)
        print(f"{'format':<9} {'inputs':>7} {'clean errors':>13} {'undefined':>10} {'slowest s':>10} {'bytes':>9}")
        undefined = 0
        for fmt in wanted:
            files, suffix = formats[fmt]
            row = fuzz(fmt, files, suffix, folder, args.inputs, args.seconds, args.seed)
            undefined += row["undefined"]
            print(f"{fmt:<9} {row['inputs']:>7} {row['clean errors']:>13} {row['undefined']:>10} "
                  f"{row['slowest s']:>10.3f} {row['slowest bytes']:>9}", flush=True)
            for example in row["examples"]:
                print(f"          undefined: {example}")
    return 1 if undefined else 0


if __name__ == "__main__":
    sys.exit(main())

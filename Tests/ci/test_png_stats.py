"""Tests for Scripts/png-stats, the PNG reader the report's browser check relies on (stdlib unittest).

    python3 -m unittest discover -s Tests/ci

The PNGs are made here with the standard library's zlib, each scanline filtered with the filter
type under test, so every unfiltering path of the reader is checked against known pixels.
"""

import importlib.machinery
import importlib.util
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "Scripts" / "png-stats"


def load_script():
    """Scripts/png-stats as a module (it has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader("png_stats", str(SCRIPT))
    spec = importlib.util.spec_from_loader("png_stats", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


png_stats = load_script()


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def filtered(kind, row, previous, step):
    """`row` encoded with PNG filter `kind` (the encoder's side of the specification)."""
    out = bytearray()
    for index, value in enumerate(row):
        left = row[index - step] if index >= step else 0
        up = previous[index]
        up_left = previous[index - step] if index >= step else 0
        predictor = [0, left, up, (left + up) >> 1, png_stats.paeth(left, up, up_left)][kind]
        out.append((value - predictor) & 0xFF)
    return bytes(out)


def make_png(width, height, pixel, channels=3, filter_kind=0):
    """A PNG of `width`×`height` whose pixel (x, y) is `pixel(x, y)`, every row filtered with `filter_kind`."""
    colour_type = {3: 2, 4: 6}[channels]
    raw, previous = bytearray(), bytes(width * channels)
    for y in range(height):
        row = bytes(sample for x in range(width) for sample in pixel(x, y))
        raw += bytes([filter_kind]) + filtered(filter_kind, row, previous, channels)
        previous = row
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return png_stats.SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")


def block(x, y):
    """White, with a dark 5×3 block at x 2–6, y 4–6."""
    return (20, 40, 200) if 2 <= x <= 6 and 4 <= y <= 6 else (255, 255, 255)


class PNGStatsTests(unittest.TestCase):
    def test_a_blank_picture_is_one_colour_without_content(self):
        stats = png_stats.stats(make_png(16, 10, lambda x, y: (255, 255, 255)))
        self.assertEqual((stats["width"], stats["height"], stats["colours"]), (16, 10, 1))
        self.assertEqual(stats["background_share"], 1.0)
        self.assertEqual(stats["rows_with_content"], 0)
        self.assertIsNone(stats["first_content_row"])
        self.assertEqual(stats["colours_by_third"], [1, 1, 1])

    def test_every_filter_type_decodes_to_the_same_pixels(self):
        for kind in range(5):
            with self.subTest(filter=kind):
                stats = png_stats.stats(make_png(16, 10, block, filter_kind=kind))
                self.assertEqual(stats["colours"], 2)
                self.assertEqual(stats["background"], [255, 255, 255])
                self.assertEqual((stats["rows_with_content"], stats["first_content_row"], stats["last_content_row"]), (3, 4, 6))
                self.assertAlmostEqual(stats["background_share"], 1 - 15 / 160, places=5)
                self.assertEqual(stats["colours_by_third"], [1, 2, 1], "rows 0-3, 4-6 (the block), 7-9")

    def test_rgba_pixels_are_read_with_their_alpha_dropped(self):
        stats = png_stats.stats(make_png(8, 8, lambda x, y: block(x, y) + (128 if x % 2 else 255,), channels=4, filter_kind=4))
        self.assertEqual(stats["colours"], 2)
        self.assertEqual((stats["rows_with_content"], stats["first_content_row"]), (3, 4))

    def test_a_damaged_file_is_refused_with_a_message_and_exit_1(self):
        good = make_png(4, 4, block)
        damaged = bytearray(good)
        damaged[-20] ^= 0xFF  # inside the IDAT chunk: its CRC no longer matches
        with self.assertRaises(png_stats.NotReadable):
            png_stats.stats(bytes(damaged))
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "not.png")
            with open(path, "wb") as file:
                file.write(b"<html>not a picture</html>")
            result = subprocess.run([sys.executable, str(SCRIPT), path], capture_output=True, text=True)
            self.assertEqual(result.returncode, 1)
            self.assertIn("not a PNG", result.stderr)
            good_path = os.path.join(folder, "good.png")
            with open(good_path, "wb") as file:
                file.write(good)
            result = subprocess.run([sys.executable, str(SCRIPT), good_path], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(json.loads(result.stdout)["width"], 4)


if __name__ == "__main__":
    unittest.main()

"""Tests for the test FTP server's shared line (Scripts/ftp-server --line-rate, control key "line_rate"):
all downloads together are sent no faster than the rate, as they share a server's uplink; the
benchmark Scripts/bench-overlap relies on it. Each test starts the server process (pyftpdlib, installed
by Scripts/setup) and downloads with ftplib.

    python3 -m unittest discover -s Tests/emulator -v
"""

import ftplib
import io
import json
import unittest

from ftp_server_fixture import FTPServerTestCase
from test_upload_rate import timed_concurrently

RATE = 1_000_000  # bytes per second
SIZE = 500_000


class LineRateTests(FTPServerTestCase):
    file_size = SIZE

    def download(self, name):
        """The file's bytes over a connection of its own; checked against what was written."""
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.port, timeout=60)
        ftp.login("u", "pw")
        out = io.BytesIO()
        ftp.retrbinary(f"RETR {name}", out.write)
        ftp.quit()
        self.assertEqual(out.getvalue(), self.files[name])

    def test_concurrentDownloadsShareOneLine(self):
        # Two files of 500 kB at once: one line of 1 MB/s needs about 1 s for both; --rate (per
        # download) would let both finish in about 0.5 s.
        self.serve("--line-rate", str(RATE))
        elapsed = timed_concurrently(lambda: self.download("a.bin"), lambda: self.download("b.bin"))
        self.assertGreaterEqual(elapsed, 0.9 * 2 * SIZE / RATE)

    def test_controlFileSetsTheLine(self):
        self.serve()
        with open(self.control, "w") as f:
            json.dump({"line_rate": RATE}, f)
        elapsed = timed_concurrently(lambda: self.download("a.bin"))
        self.assertGreaterEqual(elapsed, 0.9 * SIZE / RATE)
        with open(self.control, "w") as f:
            json.dump({"line_rate": None}, f)
        self.download("b.bin")  # unpaced now; must still arrive whole


if __name__ == "__main__":
    unittest.main()

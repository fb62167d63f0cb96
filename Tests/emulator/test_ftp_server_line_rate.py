"""Tests for the test FTP server's shared line (Scripts/ftp-server --line-rate, control key "line_rate"):
all downloads together are sent no faster than the rate, as they share a server's uplink; the
benchmark Scripts/bench-overlap relies on it. Each test starts the server process (pyftpdlib, installed
by Scripts/setup) and downloads with ftplib.

    python3 -m unittest discover -s Tests/emulator -v
"""

import ftplib
import io
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import unittest

from test_upload_rate import timed_concurrently

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FTP_SERVER = os.path.join(ROOT, "Scripts", "ftp-server")
RATE = 1_000_000  # bytes per second
SIZE = 500_000


class LineRateTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ftp-server-line-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)
        self.files = {}
        for name in ("a.bin", "b.bin"):
            self.files[name] = os.urandom(SIZE)
            with open(os.path.join(self.root, name), "wb") as f:
                f.write(self.files[name])
        self.control = os.path.join(self.tmp, "control.json")

    def serve(self, *extra):
        process = subprocess.Popen([sys.executable, FTP_SERVER, "--root", self.root, "--port", "0",
                                    "--user", "u:pw", "--control", self.control, *extra],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(process.wait, 10)
        self.addCleanup(process.terminate)
        self.addCleanup(process.stdout.close)
        ready, _, _ = select.select([process.stdout], [], [], 20)
        words = process.stdout.readline().split() if ready else []
        self.assertEqual(words[:1], [b"ready"], "the FTP server did not start")
        self.port = int(words[2])

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

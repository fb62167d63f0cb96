"""The test FTP server (Scripts/ftp-server) started for a test: a root with two random files, the
control file beside it, and the server process on a free loopback port, stopped at the test's end."""

import os
import select
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FTP_SERVER = os.path.join(ROOT, "Scripts", "ftp-server")


class FTPServerTestCase(unittest.TestCase):
    """Serves `a.bin` and `b.bin` (`file_size` random bytes each, in `self.files`) as user u:pw."""

    file_size = 50_000

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ftp-server-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)
        self.files = {}
        for name in ("a.bin", "b.bin"):
            self.files[name] = os.urandom(self.file_size)
            with open(os.path.join(self.root, name), "wb") as f:
                f.write(self.files[name])
        self.control = os.path.join(self.tmp, "control.json")

    def serve(self, *extra):
        """Starts the server (with `extra` options) and sets `self.port`."""
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

"""Tests for the test FTP server's faults by path (Scripts/ftp-server, control keys "missing" and
"only"): a file listed but gone at its download, and a flaky server that cuts the downloads of some
files only. The failure-analysis acceptance test (Tests/EndToEndTests/FailureAnalysisAcceptanceTests)
plants its failures with them. Each test starts the server process (pyftpdlib, installed by
Scripts/setup) and talks to it with ftplib.

    python3 -m unittest discover -s Tests/emulator -v
"""

import ftplib
import io
import json
import os
import unittest

from ftp_server_fixture import FTPServerTestCase

SIZE = FTPServerTestCase.file_size


class PathFaultTests(FTPServerTestCase):
    def setUp(self):
        super().setUp()
        self.serve()

    def set_faults(self, faults):
        with open(self.control + ".tmp", "w") as f:
            json.dump(faults, f)
        os.rename(self.control + ".tmp", self.control)

    def connect(self):
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.port, timeout=30)
        ftp.login("u", "pw")
        self.addCleanup(ftp.close)
        return ftp

    def download(self, ftp, name):
        """The bytes RETR sent before it ended (an error ends it early)."""
        out = io.BytesIO()
        try:
            ftp.retrbinary(f"RETR {name}", out.write)
        except ftplib.error_temp:
            pass
        return out.getvalue()

    def test_aMissingFileIsListedButItsDownloadIs550(self):
        self.set_faults({"missing": ["/a.bin"]})
        ftp = self.connect()
        self.assertEqual(sorted(ftp.nlst()), ["a.bin", "b.bin"])
        with self.assertRaises(ftplib.error_perm) as refused:
            ftp.retrbinary("RETR a.bin", lambda _: None)
        self.assertTrue(str(refused.exception).startswith("550"), refused.exception)
        self.assertEqual(self.download(ftp, "b.bin"), self.files["b.bin"])
        self.set_faults({"missing": None})
        self.assertEqual(self.download(ftp, "a.bin"), self.files["a.bin"])

    def test_onlyNarrowsTheDropToSomePaths(self):
        self.set_faults({"drop_after": 1000, "only": ["/a.bin"]})
        ftp = self.connect()
        self.assertLess(len(self.download(ftp, "a.bin")), SIZE)
        self.assertEqual(self.download(self.connect(), "b.bin"), self.files["b.bin"])
        self.set_faults({"drop_after": 1000, "only": None})
        self.assertLess(len(self.download(self.connect(), "b.bin")), SIZE)

    def test_aBadValueIsIgnored(self):
        self.set_faults({"missing": "/a.bin"})  # not a list: ignored, reported on stderr
        self.assertEqual(self.download(self.connect(), "a.bin"), self.files["a.bin"])


if __name__ == "__main__":
    unittest.main()

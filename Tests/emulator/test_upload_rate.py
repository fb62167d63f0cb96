"""Tests for the emulator's upload line (--upload-rate, option "upload_rate"): upload bodies of all
connections together are read no faster than the rate, as uploads share one uplink to Google; the
benchmark Scripts/bench-overlap relies on it. Each test starts the emulator process and talks HTTP to it.

    python3 -m unittest discover -s Tests/emulator -v
"""

import os
import subprocess
import sys
import threading
import time
import unittest

from test_photos_emulator import EMULATOR, EmulatorTestCase

RATE = 1_000_000  # bytes per second


def timed_concurrently(*calls):
    """Seconds until every call, each on its own thread, has returned; re-raises the first failure."""
    failures = []

    def run(call):
        try:
            call()
        except BaseException as err:  # noqa: BLE001 - reported to the test below
            failures.append(err)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)  # a hang guard, not a speed limit
    elapsed = time.monotonic() - started
    if failures:
        raise failures[0]
    return elapsed


class UploadLineTests(EmulatorTestCase):
    ARGS = ("--upload-rate", str(RATE))

    def test_concurrentUploadsShareOneLine(self):
        # Two bodies of 500 kB at once: one line of 1 MB/s needs about 1 s for both; a limit per
        # upload would let both finish in about 0.5 s.
        raw_data, resumable_data = os.urandom(500_000), os.urandom(500_000)
        elapsed = timed_concurrently(lambda: self.emu.raw_upload("raw.jpg", raw_data),
                                     lambda: self.emu.upload("resumable.jpg", resumable_data))
        self.assertGreaterEqual(elapsed, 0.9 * (len(raw_data) + len(resumable_data)) / RATE)
        sessions = {s["file_name"]: s for s in self.emu.stats()["sessions"]}
        self.assertEqual((sessions["raw.jpg"]["status"], sessions["raw.jpg"]["received"]), ("final", 500_000))
        self.assertEqual((sessions["resumable.jpg"]["status"], sessions["resumable.jpg"]["received"]),
                         ("final", 500_000))

    def test_rateIsReportedAndCanBeSwitchedOff(self):
        self.assertEqual(self.emu.stats()["options"]["upload_rate"], RATE)
        self.assertIsNone(self.emu.control("POST", "options", {"upload_rate": None})["upload_rate"])
        self.assertIsNone(self.emu.control("POST", "options", {"upload_rate": 0})["upload_rate"])
        self.emu.raw_upload("fast.jpg", os.urandom(200_000))  # unpaced now; must still arrive whole
        self.assertEqual(self.emu.stats()["sessions"][-1]["received"], 200_000)


class UploadLineOptionTests(EmulatorTestCase):
    def test_optionSetsTheLineAtRunTime(self):
        self.assertIsNone(self.emu.stats()["options"]["upload_rate"])
        self.assertEqual(self.emu.control("POST", "options", {"upload_rate": RATE})["upload_rate"], RATE)
        data = os.urandom(600_000)
        elapsed = timed_concurrently(lambda: self.emu.raw_upload("paced.jpg", data))
        self.assertGreaterEqual(elapsed, 0.9 * len(data) / RATE)

    def test_badRatesAreRefused(self):
        for bad in (-1, 1.5, "fast", True, 10**13):
            status, _, data = self.emu.json_request("POST", "/_emulator/options", {"upload_rate": bad}, auth=False)
            self.assertEqual(status, 400, (bad, data))
            self.assertIn("upload_rate", data["error"])
        self.assertIsNone(self.emu.stats()["options"]["upload_rate"])

    def test_badCommandLineRateIsAUsageError(self):
        result = subprocess.run([sys.executable, EMULATOR, "--data-dir", os.path.join(self.tmp, "other"),
                                 "--upload-rate", "-5"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--upload-rate", result.stderr)


if __name__ == "__main__":
    unittest.main()

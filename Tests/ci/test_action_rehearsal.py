"""The action rehearsed end to end: Scripts/rehearse-ci expands action.yml's steps for a fresh
user's repository against the local FTP server, the Photos emulator and the GitHub API stand-in
(stdlib unittest; real processes, the pipeline binary from $PIPELINE_BIN or built by rehearse-ci).

    PIPELINE_BIN=.build/debug/pipeline python3 -m unittest discover -s Tests/ci -p 'test_action_rehearsal.py'
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

from test_state_artifact import REPO

HANG_GUARD = 30 * 60        # seconds; a scenario takes well under a minute


def rehearse(*arguments):
    """(exit status, output) of Scripts/rehearse-ci; output to a file, as its servers outlive pipes."""
    with tempfile.TemporaryFile() as log:
        status = subprocess.run([sys.executable, str(REPO / "Scripts/rehearse-ci"), *arguments], cwd=REPO,
                                stdout=log, stderr=subprocess.STDOUT, timeout=HANG_GUARD).returncode
        log.seek(0)
        return status, log.read().decode(errors="replace")


class ActionRehearsalTests(unittest.TestCase):
    def test_a_fresh_repository_with_only_a_workflow_and_a_pipeline_file_finishes_over_three_budget_limited_runs(self):
        status, text = rehearse("--scenario", "action-resume", "--files", "30", "--time-budget", "3s", "--runs", "12")
        self.assertEqual(status, 0, text)
        self.assertIn("rehearse-ci: PASS action-resume", text)
        # The user's repository: the copied example workflow (`uses: OWNER/pipeline@v1`) and the pipeline file.
        self.assertRegex(text, r"the user's repository holds \.github/workflows/transfer\.yml, pipelines/transfer\.yml; "
                               r"it uses the action as `OWNER/pipeline@v1`")
        self.assertIn("30 of 30 files in the emulator, uploaded twice: 0, content duplicates: 0", text)
        runs = int(re.search(r"done after (\d+) runs", text).group(1))
        self.assertGreaterEqual(runs, 3, text)
        self.assertEqual(text.count("exit status 75;"), runs - 1, text)
        carried = re.findall(r"state carried: restored artifact (\d+), saved by run (\d+)", text)
        self.assertEqual([int(run) for _, run in carried], list(range(1, runs)), text)

    def test_a_cancel_through_the_action_drains_the_pipeline_and_the_next_run_finishes(self):
        status, text = rehearse("--scenario", "cancel")
        self.assertEqual(status, 0, text)
        self.assertRegex(text, r"rehearse-ci: PASS cancel .*every file exactly once")

    def test_a_given_up_item_turns_the_run_red_until_the_retry_input_brings_it_through_the_action(self):
        status, text = rehearse("--scenario", "given-up")
        self.assertEqual(status, 0, text)
        self.assertRegex(text, r"rehearse-ci: PASS given-up .*retry input after the fix -> done, every file once")


if __name__ == "__main__":
    unittest.main()

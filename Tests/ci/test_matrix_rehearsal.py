"""examples/workflow-matrix.yml rehearsed end to end: Scripts/rehearse-ci --scenario matrix starts a
private PostgreSQL (Scripts/postgres-server), runs the workflow's jobs at once against the local FTP
server and the Photos emulator, kills one runner mid-transfer and reruns until done (stdlib
unittest; real processes; the pipeline binary from $PIPELINE_BIN or built by rehearse-ci).

    PIPELINE_BIN=.build/debug/pipeline python3 -m unittest discover -s Tests/ci -p 'test_matrix_rehearsal.py'
"""

import re
import unittest

from test_action_rehearsal import rehearse


class MatrixRehearsalTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.status, cls.text = rehearse("--scenario", "matrix")

    def test_a_runner_killed_mid_transfer_and_later_runs_bring_every_file_exactly_once_without_artifacts(self):
        self.assertEqual(self.status, 0, self.text)
        self.assertRegex(self.text, r"rehearse-ci: PASS matrix .*every file exactly once, no artifact step ran, "
                                    r"the password only in ::add-mask:: lines")
        self.assertRegex(self.text, r"runner \d+ killed mid-transfer")
        self.assertRegex(self.text, r"done after \d+ runs of the matrix")

    def test_more_than_one_runner_does_work_in_the_first_run(self):
        # A runner claims only what it can work on now, so the lister does not take the whole job.
        working = re.search(r"run 1: runners that completed items: (.*)", self.text).group(1)
        alive = [runner for runner in working.split(", ") if "killed" not in runner]
        self.assertGreaterEqual(len(working.split(", ")), 2, f"one runner did all the work: {working}")
        self.assertGreaterEqual(len(alive), 1, f"only the killed runner worked; the others ended at once: {working}")


if __name__ == "__main__":
    unittest.main()

"""The action's shared-state path (input `state-url`: a PostgreSQL database instead of the artifact),
checked without GitHub: which steps it skips, what reaches the scripts, and that locate-state masks the
URL's password before anything prints it (stdlib unittest; the scripts run as real processes).

    python3 -m unittest discover -s Tests/ci -p 'test_shared_state_action.py'
"""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from test_state_artifact import REPO, load_script

rehearse_ci = load_script(REPO / "Scripts/rehearse-ci", "rehearse_ci")
LOCATE_STATE = REPO / ".github/scripts/locate-state"
ARTIFACT_STEPS = ("Restore the state of the previous run", "Snapshot the state", "Save the state for the next run",
                  "Delete older state artifacts")


class SharedStateActionTests(unittest.TestCase):
    def setUp(self):
        self.action = rehearse_ci.read_action()
        self.steps = {step["name"]: step for step in self.action["steps"]}

    def context(self, state_url):
        """The `steps` and `inputs` contexts of a job whose every earlier step succeeded and saved."""
        steps = {"paths": {"outcome": "success", "outputs": {}}, "build": {"outcome": "success", "outputs": {}},
                 "snapshot": {"outcome": "skipped", "outputs": {}}, "upload": {"outputs": {}}}
        if not state_url:
            steps["snapshot"] = {"outcome": "success", "outputs": {"saved": "true"}}
            steps["upload"] = {"outputs": {"artifact-id": "7"}}
        return {"steps": steps, "inputs": {"state-url": state_url}}

    def runs(self, name, state_url):
        return rehearse_ci.step_runs(self.steps[name], self.context(state_url), "success")

    def test_with_a_state_url_no_artifact_is_restored_snapshotted_uploaded_or_pruned(self):
        for name in ARTIFACT_STEPS:
            with self.subTest(step=name):
                self.assertFalse(self.runs(name, "postgres://u@db.example/x"))
                self.assertTrue(self.runs(name, ""), "the artifact path must still run it")

    def test_with_a_state_url_the_state_steps_get_it_and_the_run_is_named_by_its_runner(self):
        for name in ("Locate the pipeline and its state", "Retry or forget items", "Run the pipeline", "Show the state"):
            with self.subTest(step=name):
                self.assertEqual(self.steps[name]["env"].get("STATE_URL"), "${{ inputs.state-url }}")
                self.assertTrue(self.runs(name, "postgres://u@db.example/x"))
        self.assertEqual(self.steps["Run the pipeline"]["env"].get("RUNNER_LABEL"), "${{ inputs.runner }}")
        for name in ("state-url", "runner"):
            self.assertEqual(self.action["inputs"][name].get("default"), "")

    def test_scripts_take_the_url_in_place_of_the_file(self):
        for script in ("run-pipeline", "retry-or-forget"):
            with self.subTest(script=script):
                self.assertIn("state=${STATE_URL:-$STATE_FILE}", (REPO / ".github/scripts" / script).read_text())
        self.assertIn('--state "$state"', (REPO / ".github/scripts/run-pipeline").read_text())


class LocateStateTests(unittest.TestCase):
    """locate-state run as the action runs it, in a workspace holding a pipeline file."""

    def locate(self, **environment):
        with tempfile.TemporaryDirectory() as folder:
            workspace = Path(folder, "workspace")
            (workspace / "pipelines").mkdir(parents=True)
            (workspace / "pipelines/transfer.yml").write_text("version: 1\n")
            output = Path(folder, "output")
            env = {"PATH": os.environ["PATH"], "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": folder,
                   "GITHUB_OUTPUT": str(output), "PIPELINE_INPUT": "pipelines/transfer.yml",
                   "STATE_ARTIFACT": "pipeline-state", **environment}
            done = subprocess.run([str(LOCATE_STATE)], env=env, capture_output=True, text=True)
            return done.returncode, done.stdout + done.stderr

    def assert_masked_before_shown(self, text, secret):
        lines = text.splitlines()
        masks = [i for i, line in enumerate(lines) if line == f"::add-mask::{secret}"]
        self.assertTrue(masks, f"{secret!r} is not masked:\n{text}")
        for i, line in enumerate(lines):
            if secret in line and not line.startswith("::add-mask::"):
                self.assertLess(masks[0], i, f"{secret!r} shown before it was masked:\n{text}")

    def test_the_urls_password_is_masked_raw_and_percent_decoded(self):
        status, text = self.locate(STATE_URL="postgres://runner:p%40ss%3Aword@db.example:5432/pipeline?sslmode=require")
        self.assertEqual(status, 0, text)
        self.assert_masked_before_shown(text, "p%40ss%3Aword")
        self.assert_masked_before_shown(text, "p@ss:word")
        self.assertNotIn("db.example", text.replace("::add-mask::", ""), "the URL itself is a secret: not printed")

    def test_a_password_parameter_and_the_password_variable_are_masked(self):
        status, text = self.locate(STATE_URL="postgresql://runner@db.example/pipeline?password=hunter22&sslmode=require",
                                   PIPELINE_STATE_PASSWORD="s3cret-from-env")
        self.assertEqual(status, 0, text)
        self.assert_masked_before_shown(text, "hunter22")
        self.assert_masked_before_shown(text, "s3cret-from-env")

    def test_a_url_without_a_password_masks_nothing_extra(self):
        status, text = self.locate(STATE_URL="postgres://runner@db.example/pipeline")
        self.assertEqual(status, 0, text)
        self.assertNotIn("::add-mask::", text)
        self.assertIn("shared PostgreSQL database", text)

    def test_a_url_that_is_not_postgres_fails_without_showing_it(self):
        status, text = self.locate(STATE_URL="mysql://runner:topsecret@db.example/pipeline")
        self.assertEqual(status, 1, text)
        self.assertRegex(text, r"::error title=Invalid input::state-url must be a PostgreSQL URL")
        self.assert_masked_before_shown(text, "topsecret")
        self.assertNotIn("mysql://", text)

    def test_a_url_with_a_line_break_is_refused(self):
        status, text = self.locate(STATE_URL="postgres://runner:pw@db.example/x\n::add-mask::x")
        self.assertEqual(status, 1, text)
        self.assertIn("holds a line break", text)

    def test_the_runner_label_is_checked_and_named(self):
        status, text = self.locate(STATE_URL="postgres://runner@db.example/x", RUNNER_LABEL="3")
        self.assertEqual(status, 0, text)
        self.assertIn("this is runner 3", text)
        status, text = self.locate(STATE_URL="postgres://runner@db.example/x", RUNNER_LABEL="$(id)")
        self.assertEqual(status, 1, text)
        self.assertIn("runner must be", text)

    def test_without_a_url_the_artifact_path_is_as_before(self):
        status, text = self.locate()
        self.assertEqual(status, 0, text)
        self.assertIn("state: .pipeline-state/pipeline-state/transfer.state", text)
        self.assertNotIn("::add-mask::", text)


if __name__ == "__main__":
    unittest.main()

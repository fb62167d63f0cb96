"""Checks of .github/workflows/transfer.yml that need no GitHub: pins, permissions, credentials,
and that Scripts/rehearse-ci plays the very steps the workflow has (stdlib unittest)."""

import re
import unittest
from pathlib import Path

from test_state_artifact import REPO, load_script

WORKFLOW = REPO / ".github/workflows/transfer.yml"
rehearse_ci = load_script(REPO / "Scripts/rehearse-ci", "rehearse_ci")


class WorkflowTests(unittest.TestCase):
    def setUp(self):
        self.text = WORKFLOW.read_text()
        self.workflow = rehearse_ci.read_workflow(WORKFLOW)
        self.steps = {step["name"]: step for step in self.workflow["steps"]}

    def test_every_action_is_pinned_to_a_full_commit_with_its_tag_in_a_comment(self):
        uses = re.findall(r"^\s*(?:- )?uses:\s*(.*)$", self.text, re.M)
        self.assertTrue(uses)
        for line in uses:
            with self.subTest(uses=line):
                self.assertRegex(line, r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

    def test_permissions_are_the_least_the_state_steps_need(self):
        block = re.search(r"^permissions:\n((?:  .*\n)+)", self.text, re.M).group(1)
        granted = dict(re.findall(r"^  ([\w-]+):\s*(\w+)", block, re.M))
        self.assertEqual(granted, {"contents": "read", "actions": "write"})

    def test_the_checkout_leaves_no_credentials_behind(self):
        self.assertEqual(self.steps["Check out"]["with"].get("persist-credentials"), "false")

    def test_no_expression_is_pasted_into_a_script(self):
        # Inputs and outputs reach scripts through env:, so a crafted path cannot become code.
        for step in self.workflow["steps"]:
            with self.subTest(step=step["name"]):
                self.assertNotIn("${{", step.get("run", ""))

    def test_the_run_step_hands_its_process_to_the_signal_forwarding_script(self):
        self.assertEqual(self.steps["Run the pipeline"]["run"], "exec .github/scripts/run-pipeline")

    def test_the_state_is_saved_only_from_a_snapshot_and_pruned_only_after_an_upload(self):
        self.assertEqual(self.steps["Snapshot the state"]["if"], "always()")
        self.assertIn("steps.snapshot.outputs.saved == 'true'", self.steps["Save the state for the next run"]["if"])
        self.assertEqual(self.steps["Save the state for the next run"]["with"]["retention-days"], "90")
        self.assertIn("steps.upload.outputs.artifact-id != ''", self.steps["Delete older state artifacts"]["if"])

    def test_the_build_cache_is_saved_even_when_a_later_step_fails(self):
        save = self.steps["Save the build cache"]
        self.assertTrue(save["uses"].startswith("actions/cache/save@"))
        self.assertTrue(save["if"].startswith("always()"))
        self.assertTrue(self.steps["Restore the build cache"]["uses"].startswith("actions/cache/restore@"))

    def test_the_rehearsal_finds_every_step_it_plays_and_can_play_all_after_the_build(self):
        names = [step["name"] for step in self.workflow["steps"]]
        first = names.index(rehearse_ci.FIRST_REHEARSED_STEP)
        for name in (rehearse_ci.RUN, rehearse_ci.SNAPSHOT, "Retry or forget items", "Save the state for the next run"):
            self.assertIn(name, names[first:])
        for step in self.workflow["steps"][first:]:
            with self.subTest(step=step["name"]):
                self.assertTrue("run" in step or "actions/upload-artifact@" in step.get("uses", ""))
        for variable in ("STATE_ARTIFACT", "STATE_FILE", "SNAPSHOT_DIR", "PIPELINE_FILE", "PIPELINE_BIN"):
            self.assertIn(variable, self.workflow["env"])

    def test_the_rehearsal_evaluates_the_workflows_conditions(self):
        context = {"steps": {"snapshot": {"outputs": {"saved": "true"}}, "upload": {"outputs": {}}}, "inputs": {}}
        save, prune = self.steps["Save the state for the next run"], self.steps["Delete older state artifacts"]
        self.assertTrue(rehearse_ci.step_runs(save, context, "cancelled"))
        self.assertFalse(rehearse_ci.step_runs(prune, context, "success"))
        self.assertFalse(rehearse_ci.step_runs(self.steps[rehearse_ci.RUN], context, "failure"))
        self.assertEqual(rehearse_ci.substitute(self.steps[rehearse_ci.RUN]["env"]["TIME_BUDGET"], context), "5h30m")


if __name__ == "__main__":
    unittest.main()

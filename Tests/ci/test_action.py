"""Static checks of action.yml, the composite action a user's workflow `uses:`: the safety the
workflow steps had keeps holding once they live in the action, and Scripts/rehearse-ci can play
every step (stdlib unittest).

    python3 -m unittest discover -s Tests/ci
"""

import os
import re
import unittest

from test_state_artifact import REPO, load_script

rehearse_ci = load_script(REPO / "Scripts/rehearse-ci", "rehearse_ci")


class ActionTests(unittest.TestCase):
    def setUp(self):
        self.path = rehearse_ci.ACTION
        self.text = self.path.read_text()
        self.action = rehearse_ci.read_action(self.path)
        self.steps = {step["name"]: step for step in self.action["steps"]}

    def test_no_expression_is_pasted_into_a_script(self):
        # Inputs, outputs and paths reach scripts through env:, so a crafted path cannot become code.
        for step in self.action["steps"]:
            with self.subTest(step=step["name"]):
                self.assertNotIn("${{", step.get("run", ""))

    def test_no_script_reads_input_variables_github_does_not_set_for_composite_steps(self):
        scripts = [step.get("run", "") for step in self.action["steps"]]
        scripts += [path.read_text() for path in (REPO / ".github/scripts").iterdir()]
        for script in scripts:
            self.assertNotRegex(script, r"\bINPUT_[A-Z]")

    def test_every_action_is_pinned_to_a_full_commit_with_its_tag_in_a_comment(self):
        uses = re.findall(r"^\s*(?:- )?uses:\s*(.*)$", self.text, re.M)
        self.assertTrue(uses)
        for line in uses:
            with self.subTest(uses=line):
                self.assertRegex(line, r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

    def test_every_run_step_says_its_shell(self):
        for step in self.action["steps"]:
            if "run" in step:
                with self.subTest(step=step["name"]):
                    self.assertEqual(step.get("shell"), "bash")

    def test_the_scripts_run_are_the_actions_own_and_present(self):
        for step in self.action["steps"]:
            for script in re.findall(r'"\$GITHUB_ACTION_PATH/([^"]+)"', step.get("run", "")):
                with self.subTest(script=script):
                    self.assertTrue(os.access(REPO / script, os.X_OK), f"{script} is not an executable file")
            self.assertNotRegex(step.get("run", ""), r"(^|\s)\.github/scripts/", "a script from the user's repository")

    def test_the_run_step_hands_its_process_to_the_signal_forwarding_script(self):
        self.assertEqual(self.steps["Run the pipeline"]["run"], 'exec "$GITHUB_ACTION_PATH/.github/scripts/run-pipeline"')

    def test_the_state_is_snapshotted_and_saved_always_but_pruned_only_after_an_upload(self):
        self.assertRegex(self.steps["Snapshot the state"]["if"], r"^always\(\)")
        save = self.steps["Save the state for the next run"]
        self.assertRegex(save["if"], r"^always\(\) && steps\.snapshot\.outputs\.saved == 'true'$")
        self.assertTrue(save["uses"].startswith("actions/upload-artifact@"))
        self.assertEqual(save["with"]["retention-days"], "90")
        self.assertEqual(save["with"]["name"], "${{ inputs.state-artifact }}")
        self.assertRegex(self.steps["Delete older state artifacts"]["if"], r"^always\(\) && steps\.upload\.outputs\.artifact-id != ''$")

    def test_the_build_cache_is_saved_even_when_a_later_step_fails(self):
        save = self.steps["Save the build cache"]
        self.assertTrue(save["uses"].startswith("actions/cache/save@"))
        self.assertRegex(save["if"], r"^always\(\) && steps\.build\.outcome == 'success'")
        self.assertTrue(self.steps["Restore the build cache"]["uses"].startswith("actions/cache/restore@"))

    def test_the_build_uses_the_actions_own_source_and_the_cache_key_hashes_it(self):
        self.assertIn('--package-path "$GITHUB_ACTION_PATH"', self.steps["Build"]["run"])
        key = self.steps["Compute the build cache key"]["run"]
        self.assertIn('cd "$GITHUB_ACTION_PATH"', key)
        self.assertIn("Sources", key)
        for step in self.action["steps"]:        # hashFiles() sees only the workspace, not the action
            self.assertNotIn("hashFiles(", repr(step["with"]))

    def test_the_state_is_placed_from_the_inputs_and_the_workspace_not_the_actions_folder(self):
        for step in self.action["steps"]:
            for name in ("STATE_FILE", "SNAPSHOT_DIR", "PIPELINE_FILE"):
                if name in step["env"]:
                    with self.subTest(step=step["name"], variable=name):
                        self.assertRegex(step["env"][name], r"^\$\{\{ steps\.paths\.outputs\.[\w-]+ \}\}$")
        locate = (REPO / ".github/scripts/locate-state").read_text()
        self.assertIn('state-file=$GITHUB_WORKSPACE/', locate)
        self.assertNotIn("GITHUB_ACTION_PATH", locate)

    def test_the_token_reaches_only_the_steps_that_talk_to_the_artifact_api(self):
        holders = {step["name"] for step in self.action["steps"] if "GITHUB_TOKEN" in step["env"]}
        self.assertEqual(holders, {"Restore the state of the previous run", "Delete older state artifacts"})
        self.assertEqual(self.action["inputs"]["github-token"]["default"], "${{ github.token }}")

    def test_the_inputs_are_the_documented_ones(self):
        self.assertEqual(set(self.action["inputs"]),
                         {"pipeline", "time-budget", "state-artifact", "retry", "forget", "start-fresh", "github-token",
                          "state-url", "runner"})
        self.assertEqual(self.action["inputs"]["pipeline"].get("required"), "true")
        self.assertEqual(self.action["inputs"]["time-budget"]["default"], "5h30m")
        self.assertEqual(self.action["inputs"]["state-artifact"]["default"], "pipeline-state")

    def test_the_rehearsal_plays_every_step_and_skips_only_the_build_cache_and_system_libraries(self):
        by_hand = {step["name"]: rehearse_ci.played_by_hand(step) for step in self.action["steps"]}
        for step in self.action["steps"]:
            with self.subTest(step=step["name"]):
                self.assertTrue("run" in step or by_hand[step["name"]], "neither run nor played by hand")
        skipped = {name for name, why in by_hand.items() if why and why != "upload-artifact"}
        self.assertEqual(skipped, {"Install system libraries", "Restore the build cache", "Build", "Save the build cache"})
        for name in (rehearse_ci.RUN, rehearse_ci.RESTORE, rehearse_ci.SNAPSHOT, rehearse_ci.LOCATE, "Retry or forget items"):
            self.assertIn(name, self.steps)

    def test_the_rehearsal_evaluates_the_actions_conditions(self):
        context = {"steps": {"snapshot": {"outputs": {"saved": "true"}}, "upload": {"outputs": {}},
                             "paths": {"outcome": "success", "outputs": {}}}, "inputs": {}}
        save, prune = self.steps["Save the state for the next run"], self.steps["Delete older state artifacts"]
        self.assertTrue(rehearse_ci.step_runs(save, context, "cancelled"))
        self.assertTrue(rehearse_ci.step_runs(self.steps[rehearse_ci.SNAPSHOT], context, "failure"))
        self.assertFalse(rehearse_ci.step_runs(prune, context, "success"))
        self.assertFalse(rehearse_ci.step_runs(self.steps[rehearse_ci.RUN], context, "failure"))


if __name__ == "__main__":
    unittest.main()

"""Checks of examples/workflow-matrix.yml, the workflow whose N jobs share one PostgreSQL state, that
need no GitHub: a matrix that survives one runner's failure, no artifact and no artifact permission,
the URL and password only as secrets, one run at a time, the 6-hour budget (stdlib unittest).

    python3 -m unittest discover -s Tests/ci -p 'test_matrix_workflow.py'
"""

import re
import unittest

from test_state_artifact import REPO, load_script

rehearse_ci = load_script(REPO / "Scripts/rehearse-ci", "rehearse_ci")


class MatrixWorkflowTests(unittest.TestCase):
    def setUp(self):
        self.text = rehearse_ci.MATRIX_WORKFLOW.read_text()
        self.workflow = rehearse_ci.read_workflow(rehearse_ci.MATRIX_WORKFLOW)
        self.job = self.workflow["job"]
        self.uses = rehearse_ci.action_step(self.workflow)

    def test_several_runners_none_cancelled_when_another_fails(self):
        strategy = self.job["strategy"]
        self.assertEqual(strategy["fail-fast"], "false")
        runners = strategy["matrix"]["runner"]
        self.assertGreaterEqual(len(runners), 2)
        self.assertEqual(len(set(runners)), len(runners))
        self.assertEqual(self.uses["with"]["runner"], "${{ matrix.runner }}")

    def test_the_state_is_the_shared_database_from_a_secret_and_no_artifact_is_named(self):
        self.assertEqual(self.uses["with"]["state-url"], "${{ secrets.PIPELINE_STATE_URL }}")
        self.assertEqual(self.uses["env"]["PIPELINE_STATE_PASSWORD"], "${{ secrets.PIPELINE_STATE_PASSWORD }}")
        for name in ("state-artifact", "start-fresh"):
            self.assertNotIn(name, self.uses["with"])
        self.assertNotIn("start_fresh", self.text)
        self.assertNotRegex(self.text, r"upload-artifact|download-artifact")

    def test_permissions_are_only_to_read_the_pipeline_file(self):
        self.assertEqual(self.workflow["workflow"]["permissions"], {"contents": "read"})
        self.assertNotIn("github-token", self.uses["with"])

    def test_secrets_are_never_echoed_nor_pasted_anywhere_but_the_action(self):
        secrets = re.findall(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", self.text)
        self.assertEqual(len(secrets), len(self.uses["env"]) + 1)       # the env, and state-url
        for name, value in self.uses["env"].items():
            self.assertEqual(value, f"${{{{ secrets.{name} }}}}")
        for step in self.workflow["steps"]:
            self.assertNotIn("run", step, "a step of the user's own could print a secret")
        self.assertNotRegex(self.text, r"(?i)\becho\b|::add-mask::|set -x")

    def test_retry_and_forget_are_applied_by_one_runner_only(self):
        for name, given in (("retry", "inputs.retry"), ("forget", "inputs.forget")):
            with self.subTest(input=name):
                expression = self.uses["with"][name]
                self.assertEqual(expression, f"${{{{ matrix.runner == 1 && {given} || '' }}}}")
                context = {"inputs": {name: "all-failed"}}
                self.assertEqual(rehearse_ci.substitute(expression, {**context, "matrix": {"runner": "1"}}), "all-failed")
                self.assertEqual(rehearse_ci.substitute(expression, {**context, "matrix": {"runner": "2"}}), "")
                self.assertEqual(rehearse_ci.substitute(expression, {"inputs": {name: ""}, "matrix": {"runner": "1"}}), "")

    def test_two_runs_never_overlap(self):
        concurrency = self.workflow["workflow"]["concurrency"]
        self.assertTrue(concurrency["group"])
        self.assertEqual(concurrency["cancel-in-progress"], "false")
        self.assertNotIn("${{", concurrency["group"], "one group for the whole workflow, not one per job or ref")

    def test_scheduled_and_by_hand(self):
        on = self.workflow["workflow"]["on"]
        self.assertTrue(on["schedule"][0]["cron"])
        self.assertIn("time_budget", on["workflow_dispatch"]["inputs"])

    def test_the_job_outlasts_the_time_budget_within_githubs_six_hours(self):
        minutes = int(self.job["timeout-minutes"])
        self.assertLessEqual(minutes, 360)
        budget = re.fullmatch(r"\$\{\{ inputs\.time_budget \|\| '(\d+)h(\d+)m' \}\}", self.uses["with"]["time-budget"])
        self.assertTrue(budget, self.uses["with"]["time-budget"])
        self.assertLess(int(budget.group(1)) * 60 + int(budget.group(2)), minutes)
        self.assertEqual(self.workflow["workflow"]["on"]["workflow_dispatch"]["inputs"]["time_budget"]["default"],
                         f"{budget.group(1)}h{budget.group(2)}m")

    def test_it_says_what_the_single_runner_example_says_but_the_state_and_the_matrix(self):
        single = rehearse_ci.read_workflow(rehearse_ci.EXAMPLE_WORKFLOW)
        single_uses = rehearse_ci.action_step(single)
        self.assertEqual(self.uses["uses"], single_uses["uses"])
        self.assertEqual(self.uses["with"]["pipeline"], single_uses["with"]["pipeline"])
        self.assertEqual({k: v for k, v in self.uses["env"].items() if k != "PIPELINE_STATE_PASSWORD"}, single_uses["env"])
        for key in ("runs-on", "container", "timeout-minutes"):
            self.assertEqual(self.job[key], single["job"][key])
        self.assertEqual(self.workflow["steps"][0], single["steps"][0])      # the checkout, without credentials
        self.assertEqual(self.workflow["workflow"]["on"]["schedule"], single["workflow"]["on"]["schedule"])

    def test_it_fits_on_one_screen(self):
        self.assertLessEqual(len(self.text.splitlines()), 60)

    def test_every_other_action_is_pinned_to_a_full_commit(self):
        for line in re.findall(r"^\s*(?:- )?uses:\s*(.*)$", self.text, re.M):
            if not rehearse_ci.ACTION_REFERENCE.match(re.sub(r"\s+#.*", "", line)):
                self.assertRegex(line, r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

    def test_the_yaml_reader_reads_it_as_a_yaml_library_does(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML is not installed (the reader is checked against it where it is)")
        self.assertEqual(rehearse_ci.read_yaml(self.text), yaml.load(self.text, Loader=yaml.BaseLoader))


if __name__ == "__main__":
    unittest.main()

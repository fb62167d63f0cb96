"""Checks of the two workflows that use the action, .github/workflows/transfer.yml (this repository's,
`uses: ./`) and examples/workflow.yml (what a user copies), that need no GitHub: pins, permissions,
concurrency, credentials, one screen, and that the two say the same (stdlib unittest)."""

import re
import unittest

from test_state_artifact import REPO, load_script

rehearse_ci = load_script(REPO / "Scripts/rehearse-ci", "rehearse_ci")
WORKFLOWS = {"transfer.yml": rehearse_ci.WORKFLOW, "examples/workflow.yml": rehearse_ci.EXAMPLE_WORKFLOW}


class WorkflowTests(unittest.TestCase):
    def each(self):
        for name, path in WORKFLOWS.items():
            with self.subTest(workflow=name):
                yield path.read_text(), rehearse_ci.read_workflow(path)

    def test_every_other_action_is_pinned_to_a_full_commit_with_its_tag_in_a_comment(self):
        for text, _ in self.each():
            uses = [line for line in re.findall(r"^\s*(?:- )?uses:\s*(.*)$", text, re.M)
                    if not rehearse_ci.ACTION_REFERENCE.match(re.sub(r"\s+#.*", "", line))]
            self.assertTrue(uses)
            for line in uses:
                self.assertRegex(line, r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

    def test_permissions_are_the_least_the_state_steps_need(self):
        for _, workflow in self.each():
            self.assertEqual(workflow["workflow"]["permissions"], {"contents": "read", "actions": "write"})

    def test_two_runs_never_share_a_state(self):
        for _, workflow in self.each():
            concurrency = workflow["workflow"]["concurrency"]
            self.assertTrue(concurrency["group"])
            self.assertEqual(concurrency["cancel-in-progress"], "false")

    def test_the_job_outlasts_the_time_budget_within_githubs_six_hours(self):
        for _, workflow in self.each():
            minutes = int(workflow["job"]["timeout-minutes"])
            self.assertLessEqual(minutes, 360)
            self.assertGreater(minutes, 5 * 60 + 30)

    def test_the_checkout_leaves_no_credentials_behind(self):
        for _, workflow in self.each():
            checkout = next(s for s in workflow["steps"] if s.get("uses", "").startswith("actions/checkout@"))
            self.assertEqual(checkout["with"].get("persist-credentials"), "false")

    def test_the_action_is_given_only_inputs_it_has_and_every_required_one(self):
        inputs = rehearse_ci.read_action()["inputs"]
        for _, workflow in self.each():
            given = rehearse_ci.action_step(workflow)["with"]
            self.assertLessEqual(set(given), set(inputs))
            self.assertLessEqual({name for name, spec in inputs.items() if spec.get("required") == "true"}, set(given))

    def test_secrets_reach_only_the_actions_environment(self):
        for text, workflow in self.each():
            step = rehearse_ci.action_step(workflow)
            self.assertEqual(len(re.findall(r"\$\{\{\s*secrets\.", text)), len(step["env"]))
            for name, value in step["env"].items():
                self.assertEqual(value, f"${{{{ secrets.{name} }}}}")

    def test_the_example_says_what_this_repositorys_workflow_says_but_where_the_action_comes_from(self):
        transfer, example = (rehearse_ci.read_workflow(path) for path in WORKFLOWS.values())
        self.assertEqual(rehearse_ci.action_step(transfer)["uses"], "./")
        self.assertRegex(rehearse_ci.action_step(example)["uses"], r"^OWNER/pipeline@v\d+$")
        for workflow in (transfer, example):
            for step in workflow["job"]["steps"]:
                if rehearse_ci.ACTION_REFERENCE.match(step.get("uses", "")):
                    step["uses"] = "the action"
        self.assertEqual(transfer["workflow"], example["workflow"])

    def test_each_fits_on_one_screen(self):
        for text, _ in self.each():
            self.assertLessEqual(len(text.splitlines()), 50)

    def test_the_yaml_reader_reads_them_as_a_yaml_library_does(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML is not installed (the reader is checked against it where it is)")
        for path in (*WORKFLOWS.values(), rehearse_ci.ACTION):
            with self.subTest(path=path.name):
                self.assertEqual(rehearse_ci.read_yaml(path.read_text()), yaml.load(path.read_text(), Loader=yaml.BaseLoader))


if __name__ == "__main__":
    unittest.main()

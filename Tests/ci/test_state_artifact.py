"""Tests for .github/scripts/state-artifact against Scripts/github-api-emulator (stdlib unittest).

    python3 -m unittest discover -s Tests/ci

The script runs in-process (its waits between retries set to zero), with the environment a
workflow step would give it; the API stand-in runs as a separate process on loopback, a fresh one
per test.
"""

import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import warnings
import urllib.request
import zipfile
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-token"
WORKFLOW_ID = 77


def load_script(path, name):
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


state_artifact = load_script(REPO / ".github/scripts/state-artifact", "state_artifact")


def http(method, url, body=None):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method), timeout=10) as response:
        return json.load(response)


def sqlite_state(marker):
    """The bytes of a small SQLite database that says which one it is."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "db")
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("CREATE TABLE marker (name TEXT)")
            db.execute("INSERT INTO marker VALUES (?)", (marker,))
        return Path(path).read_bytes()


def zip_bytes(entries):
    """entries: name -> bytes, or a ZipInfo -> bytes for entries with special attributes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class StandInTestCase(unittest.TestCase):
    """A fresh API stand-in, a workspace, and the current run (trusted unless a test says not)."""

    def setUp(self):
        self.folder = Path(tempfile.mkdtemp(prefix="state-artifact-test."))
        self.addCleanup(shutil.rmtree, self.folder, True)
        port_file = self.folder / "port"
        self.server = subprocess.Popen(
            [sys.executable, str(REPO / "Scripts/github-api-emulator"), "--data-dir", str(self.folder / "github"),
             "--port", "0", "--port-file", str(port_file), "--token", TOKEN],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop_server)
        deadline = time.monotonic() + 10
        while not (port_file.exists() and port_file.read_text().strip()):
            self.assertLess(time.monotonic(), deadline, "the API stand-in did not start")
            time.sleep(0.05)
        self.api = f"http://127.0.0.1:{port_file.read_text().strip()}"
        self.state_file = self.folder / "workspace/state/transfer.state"
        self.current_run = self.add_run()
        patcher = mock.patch.object(state_artifact, "RETRY_WAITS", (0, 0))
        patcher.start()
        self.addCleanup(patcher.stop)

    def stop_server(self):
        self.server.terminate()
        self.server.wait(5)

    def add_run(self, **spec):
        return http("POST", f"{self.api}/_emulator/runs", {"workflow_id": WORKFLOW_ID, **spec})["id"]

    def add_artifact(self, run_id, entries=None, marker=None, expired=False):
        data = zip_bytes(entries if entries is not None else {"transfer.state": sqlite_state(marker)})
        query = f"name=transfer-state&run_id={run_id}" + ("&expired=1" if expired else "")
        return http("POST", f"{self.api}/_emulator/artifacts?{query}", data)["id"]

    def fault(self, endpoint, status=500, count=None):
        http("POST", f"{self.api}/_emulator/faults", {"endpoint": endpoint, "status": status, **({"count": count} if count else {})})

    def github_state(self):
        return http("GET", f"{self.api}/_emulator/state")

    def run_script(self, command, **extra):
        """(exit status, output) of `state-artifact COMMAND` with a step's environment."""
        env = {"GITHUB_API_URL": self.api, "GITHUB_REPOSITORY": "owner/photos", "GITHUB_RUN_ID": str(self.current_run),
               "GITHUB_TOKEN": TOKEN, "STATE_ARTIFACT": "transfer-state", "STATE_FILE": str(self.state_file),
               "SNAPSHOT_DIR": str(self.folder / "snapshot"), "RUNNER_TEMP": str(self.folder),
               "GITHUB_OUTPUT": str(self.folder / "output"), "GITHUB_STEP_SUMMARY": str(self.folder / "summary"),
               "START_FRESH": "", **extra}
        output = io.StringIO()
        with mock.patch.dict(os.environ, env), contextlib.redirect_stdout(output):
            status = state_artifact.main([command])
        return status, output.getvalue()

    def restored_marker(self):
        with contextlib.closing(sqlite3.connect(self.state_file)) as db:
            return db.execute("SELECT name FROM marker").fetchone()[0]

    def outputs(self):
        path = self.folder / "output"
        return dict(line.split("=", 1) for line in path.read_text().splitlines()) if path.exists() else {}


class RestoreSelectionTests(StandInTestCase):
    def test_a_first_run_only_when_github_lists_no_artifact_of_that_name(self):
        status, output = self.run_script("restore")
        self.assertEqual(status, 0, output)
        self.assertIn("GitHub lists no 'transfer-state' artifact: this is the first run", output)
        self.assertFalse(self.state_file.exists())

    def test_newer_artifacts_from_other_branches_events_forks_and_workflows_are_ignored(self):
        self.add_artifact(self.add_run(), marker="good")
        untrusted = {"branch": dict(head_branch="feature"), "pull_request": dict(event="pull_request"),
                     "pull_request_target": dict(event="pull_request_target"), "workflow_run": dict(event="workflow_run"),
                     "fork": dict(head_repository_id=4321), "workflow": dict(workflow_id=WORKFLOW_ID + 1)}
        for marker, spec in untrusted.items():
            self.add_artifact(self.add_run(**spec), marker=marker)
        status, output = self.run_script("restore")
        self.assertEqual(status, 0, output)
        self.assertEqual(self.restored_marker(), "good")
        self.assertEqual(output.count("Ignored artifact"), len(untrusted), output)
        for reason in ("branch 'feature'", "'pull_request' event", "'pull_request_target' event", "'workflow_run' event",
                       "made from a fork", "another workflow"):
            self.assertIn(reason, output)

    def test_the_newest_trusted_artifact_wins(self):
        self.add_artifact(self.add_run(), marker="older")
        self.add_artifact(self.add_run(event="workflow_dispatch"), marker="newer")
        self.assertEqual(self.run_script("restore")[0], 0)
        self.assertEqual(self.restored_marker(), "newer")

    def test_an_expired_newest_artifact_falls_back_to_the_older_one_with_a_warning(self):
        self.add_artifact(self.add_run(), marker="older")
        self.add_artifact(self.add_run(), marker="newest", expired=True)
        status, output = self.run_script("restore")
        self.assertEqual(status, 0, output)
        self.assertEqual(self.restored_marker(), "older")
        self.assertIn("::warning title=Older state restored::", output)

    def test_when_every_saved_state_expired_the_job_fails_unless_start_fresh(self):
        self.add_artifact(self.add_run(), marker="old", expired=True)
        status, output = self.run_script("restore")
        self.assertEqual(status, 1)
        self.assertIn("::error title=Saved state expired::", output)
        self.assertIn("start_fresh", output)
        self.assertFalse(self.state_file.exists())
        status, output = self.run_script("restore", START_FRESH="true")
        self.assertEqual(status, 0, output)
        self.assertIn("::warning title=Starting fresh::", output)
        self.assertFalse(self.state_file.exists())

    def test_only_untrusted_artifacts_is_a_first_run(self):
        self.add_artifact(self.add_run(head_branch="feature"), marker="feature")
        status, output = self.run_script("restore")
        self.assertEqual(status, 0, output)
        self.assertIn("this is the first run", output)
        self.assertFalse(self.state_file.exists())

    def test_a_trusted_artifact_on_the_second_page_is_found(self):
        self.add_artifact(self.add_run(), marker="good")
        branch_run = self.add_run(head_branch="feature")
        for _ in range(state_artifact.PAGE_SIZE):
            self.add_artifact(branch_run, entries={"transfer.state": b"x"})
        status, output = self.run_script("restore")
        self.assertEqual(status, 0, output)
        self.assertEqual(self.restored_marker(), "good")
        pages = [r["path"] for r in self.github_state()["requests"] if r["endpoint"] == "artifacts.list"]
        self.assertEqual(len(pages), 2, pages)

    def test_a_run_on_another_branch_refuses_to_restore(self):
        self.add_artifact(self.add_run(), marker="good")
        self.current_run = self.add_run(head_branch="feature")
        status, output = self.run_script("restore")
        self.assertEqual(status, 1)
        self.assertIn("::error title=Not the default branch::this run is a run on branch 'feature'", output)
        self.assertFalse(self.state_file.exists())

    def test_the_token_goes_to_the_api_but_not_to_the_blob_store(self):
        self.add_artifact(self.add_run(), marker="good")
        self.assertEqual(self.run_script("restore")[0], 0)
        requests = self.github_state()["requests"]
        self.assertTrue(all(r["authorization"] for r in requests if r["endpoint"] != "blob"))
        self.assertEqual([r["authorization"] for r in requests if r["endpoint"] == "blob"], [False])
        self.assertIn("State restored from artifact", (self.folder / "summary").read_text())


class RestoreFailureTests(StandInTestCase):
    """Anything but a clear answer fails the step and leaves the state folder as it was."""

    def setUp(self):
        super().setUp()
        self.add_artifact(self.add_run(), marker="good")
        self.state_file.parent.mkdir(parents=True)
        self.sentinel = self.state_file.parent / "left-alone"
        self.sentinel.write_text("as before")

    def assert_failed_untouched(self, status, output, title="State not restored"):
        self.assertEqual(status, 1, output)
        self.assertRegex(output, rf"(?m)^::error title={title}::.*The state was left untouched and the pipeline does not run")
        self.assertEqual(sorted(p.name for p in self.state_file.parent.iterdir()), ["left-alone"])
        self.assertEqual(sorted(p.name for p in self.state_file.parent.parent.iterdir()), ["state"], "scratch left behind")

    def test_a_failing_listing(self):
        self.fault("artifacts.list")
        status, output = self.run_script("restore")
        self.assert_failed_untouched(status, output)
        self.assertIn("answered 500", output)

    def test_a_failing_download(self):
        self.fault("artifacts.download")
        self.assert_failed_untouched(*self.run_script("restore"))

    def test_a_failing_blob_store(self):
        self.fault("blob", status=503)
        self.assert_failed_untouched(*self.run_script("restore"))

    def test_failing_run_lookups(self):
        self.fault("runs.get", status=502)
        self.assert_failed_untouched(*self.run_script("restore"))

    def test_a_forbidden_listing_is_not_retried_and_fails(self):
        self.fault("artifacts.list", status=403)
        self.assert_failed_untouched(*self.run_script("restore"))
        self.assertEqual(sum(r["endpoint"] == "artifacts.list" for r in self.github_state()["requests"]), 1)

    def test_a_passing_failure_is_retried(self):
        self.fault("artifacts.list", count=1)
        self.fault("blob", count=1)
        status, output = self.run_script("restore")
        self.assertEqual(status, 0, output)
        self.assertEqual(self.restored_marker(), "good")
        self.assertFalse(self.sentinel.exists(), "the old folder is replaced as a whole")

    def test_an_artifact_that_is_not_a_state(self):
        self.add_artifact(self.add_run(), entries={"transfer.state": b"not a database" * 100})
        self.assert_failed_untouched(*self.run_script("restore"))

    def test_an_artifact_without_the_state_file(self):
        self.add_artifact(self.add_run(), entries={"other.state": sqlite_state("x")})
        status, output = self.run_script("restore")
        self.assert_failed_untouched(status, output)
        self.assertIn("has no transfer.state", output)

    def test_an_artifact_with_a_path_outside_its_folder(self):
        self.add_artifact(self.add_run(), entries={"../escaped": b"x", "transfer.state": sqlite_state("bad")})
        status, output = self.run_script("restore")
        self.assert_failed_untouched(status, output)
        self.assertFalse((self.folder / "workspace/escaped").exists())

    def test_a_malformed_listing(self):
        fake = mock.Mock(get_json=mock.Mock(return_value={"total_count": 1}))
        with self.assertRaises(state_artifact.ApiError):
            state_artifact.list_artifacts(fake, "transfer-state")
        fake.get_json.return_value = {"total_count": 1, "artifacts": [{"id": 1, "name": "transfer-state"}]}
        with self.assertRaises(state_artifact.ApiError):
            state_artifact.list_artifacts(fake, "transfer-state")


class ZipSafetyTests(unittest.TestCase):
    """extract() takes plain files inside the folder, within the size bounds, and nothing else."""

    def extract(self, entries):
        folder = Path(tempfile.mkdtemp(prefix="zip-safety."))
        self.addCleanup(shutil.rmtree, folder, True)
        archive = folder / "a.zip"
        with zipfile.ZipFile(archive, "w") as zip_file, warnings.catch_warnings():
            warnings.simplefilter("ignore")     # a name twice is what one test is about
            for info, data in entries:
                zip_file.writestr(info, data)
        state_artifact.extract(archive, folder / "out")
        return folder / "out"

    def assert_refused(self, entries, words):
        with self.assertRaises(state_artifact.StepFailed) as caught:
            self.extract(entries)
        self.assertIn(words, str(caught.exception))

    @staticmethod
    def entry(name, mode):
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        return info

    def test_plain_files_and_folders_are_extracted(self):
        out = self.extract([("transfer.state", b"a"), (self.entry("sub/", 0o40755), b""),
                            (self.entry("sub/x", 0o100644), b"b")])
        self.assertEqual((out / "transfer.state").read_bytes(), b"a")
        self.assertEqual((out / "sub/x").read_bytes(), b"b")

    def test_absolute_and_parent_paths_are_refused(self):
        for name in ("/etc/passwd", "../x", "a/../../x", "a//b", "C:/x", "a\\..\\x", "./x"):
            with self.subTest(name=name):
                self.assert_refused([(zipfile.ZipInfo(name), b"x")], "outside its folder")

    def test_links_and_devices_are_refused(self):
        for mode in (0o120777, 0o020644, 0o010644):
            with self.subTest(mode=oct(mode)):
                self.assert_refused([(self.entry("transfer.state", mode), b"/etc/passwd")], "not a plain file")

    def test_a_name_twice_is_refused(self):
        self.assert_refused([("transfer.state", b"a"), ("transfer.state", b"b")], "not a sound zip")

    def test_too_many_entries_are_refused(self):
        self.assert_refused([(f"f{i}", b"") for i in range(state_artifact.MAX_MEMBERS + 1)], "entries")

    def test_more_than_the_size_bound_is_refused(self):
        with mock.patch.object(state_artifact, "MAX_STATE_BYTES", 1000):
            self.assert_refused([("a", b"x" * 600), ("b", b"x" * 600)], "more than 1000 bytes")

    def test_a_damaged_zip_is_refused(self):
        folder = Path(tempfile.mkdtemp(prefix="zip-safety."))
        self.addCleanup(shutil.rmtree, folder, True)
        whole = zip_bytes({"transfer.state": os.urandom(5000) + b"x" * 5000})
        flipped = bytearray(whole)
        flipped[100] ^= 0xFF                    # inside the compressed data
        for name, data in (("truncated", whole[:len(whole) // 2]), ("flipped", bytes(flipped))):
            with self.subTest(name):
                (folder / "a.zip").write_bytes(data)
                shutil.rmtree(folder / "out", ignore_errors=True)
                with self.assertRaises(state_artifact.StepFailed):
                    state_artifact.extract(folder / "a.zip", folder / "out")


class SnapshotTests(StandInTestCase):
    def test_the_copy_holds_what_is_still_in_the_write_ahead_log(self):
        self.state_file.parent.mkdir(parents=True)
        live = sqlite3.connect(self.state_file)
        self.addCleanup(live.close)
        live.execute("PRAGMA journal_mode=WAL")
        live.execute("PRAGMA wal_autocheckpoint=0")
        live.execute("CREATE TABLE items (path TEXT)")
        live.executemany("INSERT INTO items VALUES (?)", [(f"/{i}.jpg",) for i in range(100)])
        live.commit()
        self.assertGreater(Path(f"{self.state_file}-wal").stat().st_size, 0)
        status, output = self.run_script("snapshot")
        self.assertEqual(status, 0, output)
        self.assertEqual(self.outputs(), {"saved": "true"})
        copy = self.folder / "snapshot/transfer.state"
        with contextlib.closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as db:
            self.assertEqual(db.execute("SELECT count(*) FROM items").fetchone()[0], 100)
        self.assertEqual(sorted(p.name for p in copy.parent.iterdir()), ["transfer.state"], "one self-contained file")

    def test_no_state_saves_nothing(self):
        status, output = self.run_script("snapshot")
        self.assertEqual(status, 0, output)
        self.assertEqual(self.outputs(), {"saved": "false"})
        self.assertIn("nothing to save", output)

    def test_a_damaged_state_is_not_saved(self):
        self.state_file.parent.mkdir(parents=True)
        self.state_file.write_bytes(b"garbage" * 1000)
        status, output = self.run_script("snapshot")
        self.assertEqual(status, 1)
        self.assertIn("::error title=State not saved::", output)
        self.assertEqual(self.outputs(), {"saved": "false"})

    def test_a_pipeline_that_outlived_its_step_is_stopped_first(self):
        self.state_file.parent.mkdir(parents=True)
        with contextlib.closing(sqlite3.connect(self.state_file)) as db, db:
            db.execute("CREATE TABLE items (path TEXT)")
        # A stand-in for the pipeline: named by its state argument, ends on SIGINT after a moment.
        leftover = subprocess.Popen(
            [sys.executable, "-c", "import signal, sys, time\n"
             "signal.signal(signal.SIGINT, lambda *_: (time.sleep(0.3), sys.exit(75)))\n"
             "while True: time.sleep(1)", "run", "--state", str(self.state_file)],
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.addCleanup(lambda: (leftover.kill(), leftover.wait()))
        (self.folder / "pipeline.pid").write_text(f"{leftover.pid}\n")
        time.sleep(0.3)
        status, output = self.run_script("snapshot")
        self.assertEqual(status, 0, output)
        self.assertIn("::warning title=Pipeline still running::", output)
        self.assertIn("The pipeline stopped after SIGINT", output)
        self.assertEqual(leftover.wait(1), 75)

    def test_an_unrelated_process_under_a_stale_pid_is_left_alone(self):
        other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        self.addCleanup(lambda: (other.kill(), other.wait()))
        (self.folder / "pipeline.pid").write_text(f"{other.pid}\n")
        status, output = self.run_script("snapshot")
        self.assertEqual(status, 0, output)
        self.assertIsNone(other.poll())


class PruneTests(StandInTestCase):
    def setUp(self):
        super().setUp()
        self.foreign = self.add_artifact(self.add_run(event="pull_request"), marker="pr")
        self.ours = [self.add_artifact(self.add_run(), marker=str(i)) for i in range(5)]

    def live(self):
        return sorted(a["id"] for a in self.github_state()["artifacts"] if not a["deleted"])

    def test_keeps_the_newest_three_of_this_workflow_and_leaves_the_rest_alone(self):
        status, output = self.run_script("prune", UPLOADED_ARTIFACT_ID=str(self.ours[-1]))
        self.assertEqual(status, 0, output)
        self.assertEqual(self.live(), sorted([self.foreign, *self.ours[-3:]]))
        self.assertEqual(output.count("Deleted the older"), 2)

    def test_nothing_is_deleted_while_the_new_artifact_is_not_listed(self):
        status, output = self.run_script("prune", UPLOADED_ARTIFACT_ID="123456")
        self.assertEqual(status, 0, output)
        self.assertIn("::warning title=Old states kept::", output)
        self.assertEqual(len(self.live()), 6)

    def test_a_failing_delete_is_a_warning_not_a_red_job(self):
        self.fault("artifacts.delete", status=403)
        status, output = self.run_script("prune", UPLOADED_ARTIFACT_ID=str(self.ours[-1]))
        self.assertEqual(status, 0, output)
        self.assertIn("::warning title=Old states kept::Deleting older state artifacts failed", output)


if __name__ == "__main__":
    unittest.main()

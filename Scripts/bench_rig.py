"""The loopback rig the throughput benchmarks share (Scripts/bench-quota, Scripts/bench-overlap).

It snapshots the `pipeline` binary under test, starts Scripts/ftp-server and Scripts/photos-emulator
on 127.0.0.1 in a temp dir, derives benchmark pipelines from a shipped pipeline file (by default
pipelines/transfer.yml, so the numbers follow whatever that file says: concurrency, per-stage
settings), runs them, and checks that every file arrived in the emulator exactly once. Standard
library only; nothing leaves loopback.
"""

import argparse
import hashlib
import json
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FTP_SERVER = os.path.join(REPO, "Scripts", "ftp-server")
EMULATOR = os.path.join(REPO, "Scripts", "photos-emulator")
SHIPPED = os.path.join(REPO, "pipelines", "transfer.yml")
FTP_USER, FTP_PASSWORD = "bench", "bench-ftp-pw"
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "bench-client", "bench-client-secret", "bench-refresh-token"
# Library API requests Google counts against the 10,000 a day (OAuth token requests are another service).
UPLOAD_KEYS = ("uploads.raw", "uploads.start", "uploads.upload", "uploads.query", "uploads.cancel")
FLOOR = 1 + 1 / 50  # one raw upload a photo plus one batchCreate per 50


class Unavailable(Exception):
    """Something the benchmark needs is missing (exit 69)."""


# --- options ---------------------------------------------------------------------------------------


class Arguments(argparse.ArgumentParser):
    """argparse with bench-fetch's exit status for a usage error (64, EX_USAGE); -h prints the
    description (the script's docstring, its usage) as it is."""

    def format_help(self):
        return self.description.strip() + "\n"

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(64)


def whole_number(low, high):
    """An argparse type: an integer in low..high."""
    def parse(text):
        if not re.fullmatch(r"\d+", text.strip()):
            raise argparse.ArgumentTypeError(f"want a whole number, not {text!r}")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range {low}..{high}")
        return value
    return parse


def size(low, high):
    """An argparse type: bytes as 25MB, 1.5MiB, 300KB or a number (KB/MB/GB powers of 1000,
    KiB/MiB/GiB and K/M/G powers of 1024), in low..high."""
    units = {"": 1, "b": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3, "gib": 1024**3,
             "kb": 1000, "mb": 1000**2, "gb": 1000**3}

    def parse(text):
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z]*)", text.strip())
        if not m or m.group(2).lower() not in units:
            raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 25MB, 5MiB or a number of bytes)")
        value = int(round(float(m.group(1)) * units[m.group(2).lower()]))
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} = {value:,} bytes is out of range {low:,}..{high:,}")
        return value
    return parse


def add_common_options(parser):
    parser.add_argument("--pipeline-bin", metavar="PATH", default=os.environ.get("PIPELINE_BIN"),
                        help="the pipeline binary to measure (default $PIPELINE_BIN, else .build/release/pipeline, "
                             "else .build/debug/pipeline)")
    parser.add_argument("--pipeline", metavar="FILE", default=SHIPPED,
                        help="the shipped pipeline file the benchmark pipelines are derived from "
                             "(default pipelines/transfer.yml)")


def binary_under_test(path):
    """The binary to measure: the given path or the repository's release, then debug build."""
    candidates = [path] if path else [os.path.join(REPO, ".build", "release", "pipeline"),
                                      os.path.join(REPO, ".build", "debug", "pipeline")]
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise Unavailable(f"no pipeline binary at {' or '.join(candidates)}: build one (swift build) or set "
                      "PIPELINE_BIN / --pipeline-bin")


# --- pipeline files --------------------------------------------------------------------------------


class PipelineText:
    """A pipeline file cut into its top-level blocks and its stages, by indentation (the shipped files'
    layout: top-level keys at column 0, stages as `  - name: X`), so benchmark variants keep every
    setting of the file they come from and change only what they must."""

    def __init__(self, text):
        self.blocks = []  # [(key, [lines])] in order; stages are kept apart
        self.stages = []  # [(name, [lines])]
        key = None
        for line in text.splitlines():
            top = re.match(r"([A-Za-z_]+):", line)
            if top:
                key = top.group(1)
                if key != "stages":
                    self.blocks.append((key, [line]))
                continue
            if key == "stages":
                item = re.match(r"  - name:\s*(\S+)", line)
                if item:
                    self.stages.append((item.group(1), [line]))
                elif self.stages:
                    self.stages[-1][1].append(line)
            elif self.blocks:
                self.blocks[-1][1].append(line)
        if not any(k == "source" for k, _ in self.blocks) or not self.stages:
            raise ValueError("found no `source:` block or no `  - name:` stages")

    def value(self, key):
        for k, lines in self.blocks:
            if k == key:
                return lines[0].split(":", 1)[1].split("#", 1)[0].strip()
        return None

    def stage_names(self):
        return [name for name, _ in self.stages]

    def stage_uses(self, name):
        for line in dict(self.stages)[name]:
            m = re.match(r"\s*(?:- )?uses:\s*(\S+)", line)
            if m:
                return m.group(1)
        return None

    def render(self, keep_stages=None, local_root=None):
        """The file's text: only the stages named in keep_stages (default all), and with local_root the
        source read from that folder with local-list and the remote fetch made local-fetch (their
        connection settings dropped; include, exclude, retry, timeout kept)."""
        out = []
        for key, lines in self.blocks:
            if key == "source" and local_root is not None:
                lines = localized(lines, "local-list", [f"  with: {{ root: {json.dumps(local_root)} }}"])
            out.extend(lines)
        out.append("stages:")
        for name, lines in self.stages:
            if keep_stages is not None and name not in keep_stages:
                continue
            if local_root is not None and self.stage_uses(name) in ("curl-fetch", "rclone-fetch"):
                lines = localized(lines, "local-fetch", [])
            out.extend(lines)
        return "\n".join(out) + "\n"


def localized(lines, uses, with_lines):
    """A block with its `uses:`/`run:` line made `uses: USES` and its `with:` (one line or indented
    below) replaced by with_lines."""
    out, skipping, with_indent = [], False, None
    for line in lines:
        indent = len(line) - len(line.lstrip(" -"))
        if skipping and line.strip() and indent > with_indent:
            continue
        skipping = False
        m = re.match(r"(\s*(?:- )?)(uses|run):\s*\S+", line)
        if m:
            out.append(f"{m.group(1)}uses: {uses}")
            continue
        if re.match(r"\s*with:", line):
            with_indent, skipping = indent, True
            pad = " " * indent
            out.extend(pad + w.strip() for w in with_lines)
            continue
        out.append(line)
    if with_lines and not any(re.match(r"\s*with:", line) for line in out):
        out[1:1] = with_lines
    return out


# --- processes -------------------------------------------------------------------------------------


class Rig:
    """A temp dir with the binary's snapshot, and the servers started in it; close() stops what it
    started and removes the dir."""

    def __init__(self, name, binary):
        self.dir = tempfile.mkdtemp(prefix=f"{name}.", dir=os.environ.get("TMPDIR"))
        self.processes = []
        self.binary = os.path.join(self.dir, "pipeline")
        shutil.copy2(binary, self.binary)  # a rebuild during the run does not change what is measured
        self.binary_source = binary

    def close(self):
        for process in reversed(self.processes):
            stop(process)
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self, label, args):
        """Starts a server that prints `ready HOST PORT`; returns (process, port)."""
        log = open(self.path(f"{label}.stderr"), "ab")
        process = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=log)
        log.close()
        self.processes.append(process)
        ready, _, _ = select.select([process.stdout], [], [], 30)
        words = process.stdout.readline().decode(errors="replace").split() if ready else []
        if len(words) != 3 or words[0] != "ready":
            with open(self.path(f"{label}.stderr"), errors="replace") as f:
                tail = f.read()[-2000:]
            raise Unavailable(f"{label} did not start: {tail.strip() or 'no message'}")
        return process, int(words[2])

    def ftp_server(self, root, *extra):
        _, port = self.start("ftp-server", [FTP_SERVER, "--root", root, "--port", "0",
                                            "--user", f"{FTP_USER}:{FTP_PASSWORD}", *extra])
        return f"ftp://127.0.0.1:{port}/"

    def emulator(self, data_dir, *extra):
        """A fresh emulator (its own data dir: counters from 0, no album yet); returns (process, base URL)."""
        process, port = self.start("photos-emulator", [
            EMULATOR, "--data-dir", data_dir, "--port", "0", "--client-id", CLIENT_ID,
            "--client-secret", CLIENT_SECRET, "--refresh-token", REFRESH_TOKEN, *extra])
        return process, f"http://127.0.0.1:{port}"

    def environment(self, ftp_url=None, photos_url=None):
        """The variables the shipped files read, pointed at the loopback servers."""
        env = dict(os.environ, GOOGLE_CLIENT_ID=CLIENT_ID, GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
                   GOOGLE_REFRESH_TOKEN=REFRESH_TOKEN, FTP_USER=FTP_USER, FTP_PASSWORD=FTP_PASSWORD)
        env.pop("GOOGLE_ALBUM", None)
        if ftp_url:
            env["FTP_URL"] = ftp_url
        if photos_url:
            env.update(GOOGLE_PHOTOS_API=photos_url, GOOGLE_TOKEN_URL=photos_url + "/token")
        else:  # never Google's real endpoints
            env.update(GOOGLE_PHOTOS_API="http://127.0.0.1:9", GOOGLE_TOKEN_URL="http://127.0.0.1:9/token")
        return env

    def write_pipeline(self, name, text, env):
        """Writes the pipeline file and checks it with `pipeline validate`."""
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        result = subprocess.run([self.binary, "validate", path], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise Unavailable(f"the derived pipeline {name} is invalid: {(result.stderr or result.stdout).strip()}")
        return path

    def run(self, pipeline_file, env, args=(), timeout=900, during=None):
        """`pipeline run` from a fresh state and work dir; returns (exit status, seconds, last log lines).
        `during(process)` is called while it runs (for sampling) and must return when it ends."""
        state, work = self.path("run.state"), self.path("run-work")
        for leftover in (state, state + "-wal", state + "-shm"):
            if os.path.exists(leftover):
                os.remove(leftover)
        shutil.rmtree(work, ignore_errors=True)
        log_path = self.path("run.log")
        with open(log_path, "w") as log:
            started = time.monotonic()
            process = subprocess.Popen([self.binary, "run", pipeline_file, "--state", state, "--workdir", work,
                                        "--log-format", "plain", *args], env=env, stdout=log, stderr=subprocess.STDOUT)
            self.processes.append(process)
            try:
                if during is not None:
                    during(process)
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                stop(process)
            seconds = time.monotonic() - started
            self.processes.remove(process)
        with open(log_path, errors="replace") as f:
            tail = f.read().splitlines()[-5:]
        status = process.returncode if process.returncode is not None else "timed out"
        return status, seconds, tail


def stop(process):
    """SIGTERM, up to 10 s, then SIGKILL: only this process."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()


def emulator_stats(base_url):
    with urllib.request.urlopen(base_url + "/_emulator/stats", timeout=30) as answer:
        return json.load(answer)


# --- data and checks -------------------------------------------------------------------------------


def write_random_files(root, names_and_sizes):
    """Writes random files; returns {file name: sha1}."""
    digests = {}
    for name, n in names_and_sizes:
        data = os.urandom(n)
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        digests[os.path.basename(name)] = hashlib.sha1(data).hexdigest()
    return digests


def sha1_of(path):
    """The file's SHA-1, or None when it cannot be read."""
    digest = hashlib.sha1()
    try:
        with open(path, "rb") as f:
            for piece in iter(lambda: f.read(1 << 20), b""):
                digest.update(piece)
    except OSError:
        return None
    return digest.hexdigest()


def arrival_problems(stats, expected):
    """What is wrong with the emulator's media items against {file name: sha1}: every file exactly once,
    byte-identical, nothing else. An empty list when all is well."""
    problems = []
    seen = {}
    for m in stats["media_items"]:
        seen.setdefault(m["filename"], []).append(m["sha1"])
    for name, sha1 in sorted(expected.items()):
        got = seen.pop(name, [])
        if len(got) != 1:
            problems.append(f"{name} arrived {len(got)} times")
        elif got[0] != sha1:
            problems.append(f"{name} arrived with different content")
    if seen:
        problems.append(f"{len(seen)} unexpected media item name(s), e.g. {sorted(seen)[0]}")
    if stats.get("duplicates"):
        problems.append(f"{len(stats['duplicates'])} duplicate content group(s)")
    return problems


def request_counts(stats):
    """(upload requests, batchCreate calls, other Library API requests) from the emulator's counters."""
    requests = stats["requests"]
    uploads = sum(requests.get(k, 0) for k in UPLOAD_KEYS)
    batch = requests.get("batchCreate", 0)
    other = sum(v for k, v in requests.items() if k not in UPLOAD_KEYS and k not in ("batchCreate", "token"))
    return uploads, batch, other


# --- output ----------------------------------------------------------------------------------------


def table(header, rows):
    """Text lines of a table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    first = line(header)
    return [first, "-" * len(first), *(line(r) for r in rows)]


def machine_lines(rig):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    version = subprocess.run([rig.binary, "--version"], capture_output=True, text=True).stdout.strip() or "?"
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(rig.binary_source)))
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"] * 3
    return [f"Machine:  {os.cpu_count()} cores, {cpu}, load {' '.join(load)} (1/5/15 min) at start",
            f"Binary:   {rig.binary_source} (pipeline {version}, built {built})"]


def median(values):
    return statistics.median(values) if values else None


def main_guard(name, body):
    """Runs body(); missing tools exit 69 with the reason, an interrupt 130."""
    try:
        return body()
    except Unavailable as err:
        print(f"{name}: {err}", file=sys.stderr)
        return 69
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130

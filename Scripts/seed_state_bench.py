#!/usr/bin/env python3
"""Times the old ("seed") state approach for N synthetic items.

Re-implements the StateManager of the user's old Python FTP -> Google Photos script
(/work/shared/seeds/000_d8624e268c6d67d1.txt): the whole state lives in `upload_state.json`
and is rewritten after every change (`_save_state`: set `last_updated`, `json.dump(indent=2)`
to a temp file, then `temp_file.replace(state_file)`). `completed` is a list and
`is_completed` is a membership test on it. Per item the old script did:

    if state.is_completed(path): skip
    if state.is_failed(path) and not state.should_retry(path): skip
    state.mark_in_progress(path, size)        # full save
    ... download / upload (nothing here) ...
    state.mark_completed(path, size, media_key)  # full save

This is deliberately NOT optimised: it is the baseline that Scripts/bench-state compares against.
Only the bodies of `_save_state`, `should_retry` and the state layout are quoted in the seed; the
bodies of the other methods are reconstructed from the documented layout and behaviour. Where the
seed is silent the cheaper choice is taken (e.g. the media key is not stored, since the documented
layout has no place for it), so the baseline is, if anything, flattered.

Usage: seed_state_bench.py N  -> prints one JSON line {"items": N, "seconds": S}
"""

import json
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

# datetime.utcnow() is what the seed calls; newer Pythons warn about it. Keep the call, drop the noise.
warnings.filterwarnings("ignore", category=DeprecationWarning)


class StateManager:
    """The seed's upload_state.json manager."""

    def __init__(self, state_file: Path):
        self.state_file = state_file
        self.state = self._load_state()

    def _load_state(self) -> dict:
        if self.state_file.exists():
            with open(self.state_file) as f:
                return json.load(f)
        return {
            "version": "1.0",
            "last_updated": datetime.utcnow().isoformat(),
            "completed": [],
            "failed": {},
            "in_progress": None,
            "skipped": [],
            "stats": {"total_uploaded": 0, "total_failed": 0, "total_bytes": 0},
        }

    def _save_state(self):
        """Save current state to file. (Verbatim from the seed.)"""
        self.state['last_updated'] = datetime.utcnow().isoformat()

        # Write to temp file first, then rename (atomic)
        temp_file = self.state_file.with_suffix('.tmp')
        with open(temp_file, 'w') as f:
            json.dump(self.state, f, indent=2)
        temp_file.replace(self.state_file)

    def is_completed(self, file_path: str) -> bool:
        return file_path in self.state['completed']

    def is_failed(self, file_path: str) -> bool:
        return file_path in self.state['failed']

    def get_failure_count(self, file_path: str) -> int:
        return self.state['failed'].get(file_path, {}).get('attempts', 0)

    def should_retry(self, file_path: str, max_failures: int = 3) -> bool:
        """Check if we should retry a failed file. (Verbatim from the seed.)"""
        if not self.is_failed(file_path):
            return True
        return self.get_failure_count(file_path) < max_failures

    def mark_in_progress(self, file_path: str, size: int):
        self.state['in_progress'] = {
            'path': file_path,
            'size': size,
            'started_at': datetime.utcnow().isoformat(),
        }
        self._save_state()

    def mark_completed(self, file_path: str, size: int, media_key: str):
        if file_path not in self.state['completed']:
            self.state['completed'].append(file_path)
        if file_path in self.state['failed']:
            del self.state['failed'][file_path]
        self.state['in_progress'] = None
        self.state['stats']['total_uploaded'] += 1
        self.state['stats']['total_bytes'] += size
        self._save_state()


def main() -> int:
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("usage: seed_state_bench.py N", file=sys.stderr)
        return 64
    count = int(sys.argv[1])
    # Same made-up items as StateBenchmark's SyntheticSource.
    items = [(f"/library/folder{i // 500}/item{i}.jpg", 1000 + i) for i in range(count)]

    with tempfile.TemporaryDirectory(prefix="seed-state-bench-") as directory:
        start = time.perf_counter()
        state = StateManager(Path(directory) / "upload_state.json")
        for path, size in items:
            if state.is_completed(path):
                continue
            if state.is_failed(path) and not state.should_retry(path):
                continue
            state.mark_in_progress(path, size)
            state.mark_completed(path, size, media_key=f"AF1Qip{hash(path) & 0xffffffff:08x}")
        seconds = time.perf_counter() - start

        completed = len(StateManager(Path(directory) / "upload_state.json").state['completed'])
        if completed != count:
            print(f"expected {count} completed, state says {completed}", file=sys.stderr)
            return 70

    print(json.dumps({"items": count, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

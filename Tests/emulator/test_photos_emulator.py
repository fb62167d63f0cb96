"""Tests for Scripts/photos-emulator: each test starts the emulator as a child process on port 0 and
talks HTTP to it (http.client, raw sockets, curl when installed). Standard library only:

    python3 -m unittest discover -s Tests/emulator -v
"""

import hashlib
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR = os.path.join(ROOT, "Scripts", "photos-emulator")

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "client-secret-Qx7rZ"
REFRESH_TOKEN = "refresh-token-Lm4pW"
GRANULARITY = 1024


class Emulator:
    """One emulator process with its data directory, log and stderr in `directory`."""

    def __init__(self, directory, *extra, granularity=GRANULARITY):
        self.directory = directory
        self.data_dir = os.path.join(directory, "data")
        self.log_path = os.path.join(directory, "log.jsonl")
        self.stderr_path = os.path.join(directory, "stderr.txt")
        self.port_file = os.path.join(directory, "port")
        self.stderr = open(self.stderr_path, "ab")
        args = [sys.executable, EMULATOR, "--data-dir", self.data_dir, "--port", "0",
                "--port-file", self.port_file, "--log", self.log_path,
                "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--refresh-token", REFRESH_TOKEN,
                "--granularity", str(granularity), *extra]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr)
        ready, _, _ = select.select([self.process.stdout], [], [], 10)
        line = self.process.stdout.readline().decode() if ready else ""
        parts = line.split()
        if len(parts) != 3 or parts[0] != "ready":
            self.kill()
            raise AssertionError(f"emulator did not start: {line!r}; stderr: {self.read_stderr()}")
        self.host, self.port = parts[1], int(parts[2])
        self._token = None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.close_files()

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        code = self.process.wait(10)
        self.close_files()
        return code

    def close_files(self):
        self.process.stdout.close()
        self.stderr.close()

    def read_stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_records(self):
        with open(self.log_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    # HTTP
    def connection(self, timeout=10):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None, auth=True):
        headers = dict(headers or {})
        if auth and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token()}"
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            if own:
                conn.close()

    def json_request(self, method, path, payload=None, **kw):
        body = None if payload is None else json.dumps(payload).encode()
        headers = kw.pop("headers", {})
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, hdrs, data = self.request(method, path, body, headers, **kw)
        return status, hdrs, (json.loads(data) if data else None)

    def grant(self, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN):
        body = urllib.parse.urlencode({"client_id": client_id, "client_secret": client_secret,
                                       "refresh_token": refresh_token, "grant_type": "refresh_token"})
        status, _, data = self.request("POST", "/token", body,
                                       {"Content-Type": "application/x-www-form-urlencoded"}, auth=False)
        return status, json.loads(data)

    def token(self):
        if self._token is None:
            status, data = self.grant()
            assert status == 200, data
            self._token = data["access_token"]
        return self._token

    def stats(self):
        return self.json_request("GET", "/_emulator/stats", auth=False)[2]

    def control(self, method, name, payload=None):
        status, _, data = self.json_request(method, f"/_emulator/{name}", payload if payload is not None else {},
                                            auth=False)
        assert status == 200, data
        return data

    def add_fault(self, fault):
        return self.control("POST", "faults", fault)

    # uploads
    def start(self, name="a.jpg", raw_size=None, mime="image/jpeg"):
        headers = {"Content-Length": "0", "X-Goog-Upload-Command": "start", "X-Goog-Upload-Protocol": "resumable",
                   "X-Goog-Upload-File-Name": name}
        if mime:
            headers["X-Goog-Upload-Content-Type"] = mime
        if raw_size is not None:
            headers["X-Goog-Upload-Raw-Size"] = str(raw_size)
        status, hdrs, data = self.request("POST", "/v1/uploads", b"", headers)
        assert status == 200, (status, data)
        return hdrs

    def session_path(self, hdrs):
        url = urllib.parse.urlsplit(hdrs["x-goog-upload-url"])
        return f"{url.path}?{url.query}"

    def send_chunk(self, path, data, offset, command="upload", conn=None, extra=None):
        headers = {"X-Goog-Upload-Command": command, "X-Goog-Upload-Offset": str(offset), **(extra or {})}
        return self.request("POST", path, data, headers, conn=conn)

    def query(self, path):
        return self.request("POST", path, b"", {"X-Goog-Upload-Command": "query", "Content-Length": "0"})

    def upload(self, name, data, mime="image/jpeg"):
        """A whole resumable upload in one `upload, finalize`; returns the upload token."""
        path = self.session_path(self.start(name, len(data), mime))
        status, _, body = self.send_chunk(path, data, 0, "upload, finalize")
        assert status == 200, (status, body)
        return body.decode()

    def raw_upload(self, name, data):
        status, _, body = self.request("POST", "/v1/uploads", data, {
            "Content-Type": "application/octet-stream", "X-Goog-Upload-Protocol": "raw",
            "X-Goog-Upload-File-Name": name, "X-Goog-Upload-Content-Type": "image/jpeg"})
        assert status == 200, (status, body)
        return body.decode()

    def batch_create(self, items, album_id=None):
        payload = {"newMediaItems": items}
        if album_id is not None:
            payload["albumId"] = album_id
        return self.json_request("POST", "/v1/mediaItems:batchCreate", payload)


def item(token, file_name=None, description=None):
    entry = {"simpleMediaItem": {"uploadToken": token}}
    if file_name is not None:
        entry["simpleMediaItem"]["fileName"] = file_name
    if description is not None:
        entry["description"] = description
    return entry


def read_response(f):
    """(status, headers, body) of one HTTP/1.1 response from a socket file (Content-Length framing)."""
    status_line = f.readline().decode()
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = f.readline().decode()
        if line in ("\r\n", "\n", ""):
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return status, headers, body


class EmulatorTestCase(unittest.TestCase):
    ARGS = ()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="photos-emulator-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.emu = self.launch(*self.ARGS)

    def launch(self, *args, directory=None, **kw):
        emu = Emulator(directory or self.tmp, *args, **kw)
        self.addCleanup(self.assertNoTraceback, emu)
        self.addCleanup(emu.kill)
        return emu

    def assertNoTraceback(self, emu):
        self.assertNotIn("Traceback", emu.read_stderr())

    def launch_elsewhere(self, *args, **kw):
        return self.launch(*args, directory=tempfile.mkdtemp(dir=self.tmp), **kw)

    def assertEnvelope(self, status, data, code, name):
        self.assertEqual(status, code, data)
        self.assertEqual(data["error"]["code"], code)
        self.assertEqual(data["error"]["status"], name)
        self.assertIsInstance(data["error"]["message"], str)


# --- OAuth and authentication -----------------------------------------------------------------------------


class TokenTests(EmulatorTestCase):
    def test_grant_returns_bearer_token(self):
        status, data = self.emu.grant()
        self.assertEqual(status, 200)
        self.assertEqual(data["token_type"], "Bearer")
        self.assertEqual(data["expires_in"], 3599)
        self.assertEqual(data["scope"], "https://www.googleapis.com/auth/photoslibrary.appendonly "
                                        "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata")
        self.assertGreater(len(data["access_token"]), 20)
        self.assertNotEqual(data["access_token"], self.emu.grant()[1]["access_token"])

    def test_wrong_client_is_invalid_client(self):
        status, data = self.emu.grant(client_secret="nope")
        self.assertEqual((status, data["error"]), (401, "invalid_client"))

    def test_unknown_or_revoked_refresh_token_is_invalid_grant(self):
        status, data = self.emu.grant(refresh_token="other")
        self.assertEqual(status, 400)
        self.assertEqual(data, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        self.emu.control("POST", "revoke")
        status, data = self.emu.grant()
        self.assertEqual((status, data["error"]), (400, "invalid_grant"))

    def test_api_needs_a_valid_bearer_token(self):
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
            status, hdrs, data = self.emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}},
                                                       headers=headers, auth=False)
            self.assertEnvelope(status, data, 401, "UNAUTHENTICATED")
            self.assertIn("Request had invalid authentication credentials", data["error"]["message"])

    def test_expired_access_token_is_401(self):
        status, _, _ = self.emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})
        self.assertEqual(status, 200)
        self.assertEqual(self.emu.control("POST", "expire-access-tokens")["expired"], 1)
        status, _, data = self.emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})
        self.assertEnvelope(status, data, 401, "UNAUTHENTICATED")
        self.emu._token = None  # a fresh grant works again
        self.assertEqual(self.emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})[0], 200)

    def test_token_lifetime_option(self):
        emu = self.launch_elsewhere("--token-lifetime", "0.3")
        self.assertEqual(emu.grant()[1]["expires_in"], 0)
        token = emu.token()
        time.sleep(0.4)
        status, _, data = emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}},
                                           headers={"Authorization": f"Bearer {token}"})
        self.assertEnvelope(status, data, 401, "UNAUTHENTICATED")

    def test_basic_client_authentication(self):
        import base64
        creds = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        body = urllib.parse.urlencode({"refresh_token": REFRESH_TOKEN, "grant_type": "refresh_token"})
        status, _, data = self.emu.request("POST", "/token", body, {
            "Authorization": f"Basic {creds}", "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, data)


# --- uploads --------------------------------------------------------------------------------------------


class UploadTests(EmulatorTestCase):
    def test_start_headers(self):
        emu = self.launch_elsewhere(granularity=262144)
        hdrs = emu.start("a.jpg", 10)
        url = hdrs["x-goog-upload-url"]
        self.assertRegex(url, rf"^http://127\.0\.0\.1:{emu.port}/v1/uploads\?upload_id=[^&]+&upload_protocol=resumable$")
        self.assertEqual(hdrs["x-goog-upload-chunk-granularity"], "262144")
        self.assertEqual(hdrs["x-goog-upload-status"], "active")

    def test_resumable_upload_query_and_finalize(self):
        data = os.urandom(3 * GRANULARITY + 100)
        path = self.emu.session_path(self.emu.start("a.jpg", len(data)))
        status, hdrs, _ = self.emu.query(path)
        self.assertEqual((status, hdrs["x-goog-upload-status"], hdrs["x-goog-upload-size-received"]), (200, "active", "0"))
        status, hdrs, _ = self.emu.send_chunk(path, data[:2 * GRANULARITY], 0, "upload")
        self.assertEqual((status, hdrs["x-goog-upload-status"]), (200, "active"))
        status, hdrs, _ = self.emu.query(path)
        self.assertEqual(hdrs["x-goog-upload-size-received"], str(2 * GRANULARITY))
        status, hdrs, body = self.emu.send_chunk(path, data[2 * GRANULARITY:], 2 * GRANULARITY, "UPLOAD, Finalize")
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs["x-goog-upload-status"], "final")
        self.assertEqual(hdrs["content-type"], "text/plain")
        token = body.decode()
        self.assertTrue(token)
        status, hdrs, body = self.emu.query(path)
        self.assertEqual((status, hdrs["x-goog-upload-status"], hdrs["x-goog-upload-size-received"]),
                         (200, "final", str(len(data))))
        self.assertEqual(body.decode(), token)
        session = self.emu.stats()["sessions"][0]
        self.assertEqual((session["received"], session["status"], session["raw_size"], session["file_name"]),
                         (len(data), "final", len(data), "a.jpg"))
        # The hash the media item gets is the hash of the bytes.
        results = self.emu.batch_create([item(token)])[2]["newMediaItemResults"]
        self.assertEqual(results[0]["status"], {"message": "Success"})
        self.assertEqual(self.emu.stats()["media_items"][0]["sha1"], hashlib.sha1(data).hexdigest())

    def test_finalize_variants_and_missing_content_type(self):
        data = os.urandom(500)
        path = self.emu.session_path(self.emu.start("b.png", None, mime=None))
        status, hdrs, body = self.emu.send_chunk(path, data, 0, "upload,finalize")
        self.assertEqual((status, hdrs["x-goog-upload-status"]), (200, "final"), body)
        # A bare `finalize` after the last intermediate chunk.
        path = self.emu.session_path(self.emu.start("d.png", GRANULARITY))
        self.assertEqual(self.emu.send_chunk(path, os.urandom(GRANULARITY), 0, "upload")[0], 200)
        status, hdrs, body = self.emu.request("POST", path, b"", {"X-Goog-Upload-Command": "finalize",
                                                                   "X-Goog-Upload-Offset": str(GRANULARITY)})
        self.assertEqual((status, hdrs["x-goog-upload-status"]), (200, "final"), body)
        self.assertTrue(body)

    def test_chunked_bodies_without_content_length(self):
        data = os.urandom(2 * GRANULARITY + 77)
        path = self.emu.session_path(self.emu.start("e.jpg", len(data)))

        def pieces(blob):
            for i in range(0, len(blob), 300):
                yield blob[i:i + 300]

        status, _, body = self.emu.send_chunk(path, pieces(data[:2 * GRANULARITY]), 0, "upload")
        self.assertEqual(status, 200, body)
        status, hdrs, body = self.emu.send_chunk(path, pieces(data[2 * GRANULARITY:]), 2 * GRANULARITY, "upload, finalize")
        self.assertEqual(status, 200, body)
        records = [r for r in self.emu.log_records() if r["endpoint"] == "uploads.upload"]
        self.assertEqual([r["bytes"] for r in records], [2 * GRANULARITY, 77])
        # Chunked raw upload too.
        status, _, token = self.emu.request("POST", "/v1/uploads", pieces(data), {"X-Goog-Upload-Protocol": "raw",
                                                                                "X-Goog-Upload-File-Name": "f.jpg"})
        self.assertEqual(status, 200)
        self.emu.batch_create([item(token.decode())])
        self.assertEqual(self.emu.stats()["media_items"][0]["sha1"], hashlib.sha1(data).hexdigest())

    def test_wrong_offset_is_400(self):
        path = self.emu.session_path(self.emu.start("a.jpg", 4 * GRANULARITY))
        self.emu.send_chunk(path, os.urandom(GRANULARITY), 0)
        for offset in (0, 2 * GRANULARITY):
            status, hdrs, body = self.emu.send_chunk(path, os.urandom(GRANULARITY), offset)
            self.assertEqual(status, 400)
            self.assertEqual(json.loads(body)["code"], 3)
            self.assertEqual(hdrs["x-goog-upload-size-received"], str(GRANULARITY))
        status, _, _ = self.emu.request("POST", path, os.urandom(GRANULARITY), {"X-Goog-Upload-Command": "upload"})
        self.assertEqual(status, 400)  # no offset
        self.assertEqual(self.emu.query(path)[1]["x-goog-upload-size-received"], str(GRANULARITY))

    def test_intermediate_chunk_off_granularity_is_400(self):
        path = self.emu.session_path(self.emu.start("a.jpg"))
        status, _, body = self.emu.send_chunk(path, os.urandom(GRANULARITY + 1), 0)
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["code"], 3)
        status, _, _ = self.emu.send_chunk(path, iter([os.urandom(GRANULARITY + 1)]), 0)  # chunked
        self.assertEqual(status, 400)
        self.assertEqual(self.emu.query(path)[1]["x-goog-upload-size-received"], "0")
        session = self.emu.stats()["sessions"][0]
        self.assertEqual(session["received"], 0)
        self.assertEqual(session["bytes_received_total"], 2 * (GRANULARITY + 1))
        self.assertEqual(os.path.getsize(os.path.join(self.emu.data_dir, "sessions", session["upload_id"] + ".bin")), 0)

    def test_raw_size_mismatch_and_empty_payload(self):
        path = self.emu.session_path(self.emu.start("a.jpg", 100))
        status, hdrs, _ = self.emu.send_chunk(path, os.urandom(99), 0, "upload, finalize")
        self.assertEqual((status, hdrs["x-goog-upload-status"], hdrs["x-goog-upload-size-received"]), (400, "active", "0"))
        self.assertEqual(self.emu.send_chunk(path, os.urandom(100), 0, "upload, finalize")[0], 200)
        path = self.emu.session_path(self.emu.start("a.jpg"))
        status, _, body = self.emu.send_chunk(path, b"", 0, "upload, finalize")
        self.assertEqual((status, json.loads(body)), (400, {"code": 3, "message": "Payload must not be empty"}))
        status, _, body = self.emu.request("POST", "/v1/uploads", b"", {"X-Goog-Upload-Protocol": "raw"})
        self.assertEqual((status, json.loads(body)["message"]), (400, "Payload must not be empty"))

    def test_too_large_is_413_without_reading_the_body(self):
        status, _, body = self.emu.request("POST", "/v1/uploads", b"", {
            "Content-Length": "0", "X-Goog-Upload-Command": "start", "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Raw-Size": str(20 * 10**9 + 1)})
        self.assertEqual((status, json.loads(body)),
                         (413, {"code": 3, "message": "The request exceeded the max file size limit of 20 GB."}))
        with socket.create_connection((self.emu.host, self.emu.port), timeout=5) as sock:
            sock.sendall((f"POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.emu.token()}\r\n"
                          "X-Goog-Upload-Protocol: raw\r\nContent-Length: 30000000000\r\n"
                          "Expect: 100-continue\r\n\r\n").encode())
            with sock.makefile("rb") as f:
                status, headers, body = read_response(f)
        self.assertEqual((status, headers["connection"]), (413, "close"))
        self.assertEqual(json.loads(body)["code"], 3)

    def test_cancel(self):
        path = self.emu.session_path(self.emu.start("a.jpg"))
        self.emu.send_chunk(path, os.urandom(GRANULARITY), 0)
        status, hdrs, _ = self.emu.request("POST", path, b"", {"X-Goog-Upload-Command": "cancel"})
        self.assertEqual((status, hdrs["x-goog-upload-status"]), (200, "cancelled"))
        status, hdrs, _ = self.emu.send_chunk(path, os.urandom(GRANULARITY), GRANULARITY)
        self.assertEqual((status, hdrs["x-goog-upload-status"]), (400, "cancelled"))
        status, hdrs, _ = self.emu.query(path)
        self.assertEqual((status, hdrs["x-goog-upload-status"]), (400, "cancelled"))
        self.assertEqual(self.emu.stats()["sessions"][0]["status"], "cancelled")

    def test_finalized_session_refuses_more_and_unknown_session_is_404(self):
        path = self.emu.session_path(self.emu.start("a.jpg"))
        self.emu.send_chunk(path, b"x", 0, "upload, finalize")
        status, hdrs, _ = self.emu.send_chunk(path, b"y", 1, "upload, finalize")
        self.assertEqual((status, hdrs["x-goog-upload-status"]), (400, "final"))
        status, _, body = self.emu.query("/v1/uploads?upload_id=nope&upload_protocol=resumable")
        self.assertEqual((status, json.loads(body)["code"]), (404, 5))

    def test_expect_100_continue(self):
        data = os.urandom(5000)
        path = self.emu.session_path(self.emu.start("a.jpg"))
        with socket.create_connection((self.emu.host, self.emu.port), timeout=5) as sock, sock.makefile("rb") as f:
            head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.emu.token()}\r\n"
                    f"X-Goog-Upload-Command: upload, finalize\r\nX-Goog-Upload-Offset: 0\r\n"
                    f"Content-Length: {len(data)}\r\nExpect: 100-continue\r\n\r\n")
            sock.sendall(head.encode())
            self.assertEqual(read_response(f)[0], 100)
            sock.sendall(data)
            status, headers, token = read_response(f)
            self.assertEqual(status, 200)
            self.assertNotIn("connection", headers)
            # The same connection carries the next request; a refused one is answered without 100.
            sock.sendall((f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Goog-Upload-Command: query\r\n"
                          "Content-Length: 10\r\nExpect: 100-continue\r\n\r\n").encode())
            status, headers, _ = read_response(f)
            self.assertEqual((status, headers["connection"]), (401, "close"))

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_posts_5_mb_with_expect(self):
        blob = os.path.join(self.tmp, "blob.jpg")
        data = os.urandom(5 * 1024 * 1024)
        with open(blob, "wb") as f:
            f.write(data)
        path = self.emu.session_path(self.emu.start("blob.jpg", len(data)))
        result = subprocess.run(
            ["curl", "-sS", "-v", "-X", "POST", "--data-binary", "@" + blob,
             "-H", f"Authorization: Bearer {self.emu.token()}", "-H", "X-Goog-Upload-Command: upload, finalize",
             "-H", "X-Goog-Upload-Offset: 0", "-H", "Content-Type: application/octet-stream",
             f"http://{self.emu.host}:{self.emu.port}{path}"],
            capture_output=True, timeout=20)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(b"Expect: 100-continue", result.stderr)
        self.assertIn(b"100 Continue", result.stderr)
        token = result.stdout.decode()
        self.emu.batch_create([item(token)])
        self.assertEqual(self.emu.stats()["media_items"][0]["sha1"], hashlib.sha1(data).hexdigest())

    def test_keep_alive_across_refused_requests(self):
        conn = self.emu.connection()
        self.addCleanup(conn.close)
        path = self.emu.session_path(self.emu.start("a.jpg"))
        status, _, _ = self.emu.request("POST", path, os.urandom(100), {"X-Goog-Upload-Command": "upload",
                                                                         "X-Goog-Upload-Offset": "0"}, conn=conn)
        self.assertEqual(status, 400)  # not a multiple of the granularity: body drained, connection kept
        status, _, _ = self.emu.request("POST", path, b"z" * 50, {"X-Goog-Upload-Command": "query"}, conn=conn,
                                        auth=False)
        self.assertEqual(status, 401)
        sock = conn.sock
        status, _, _ = self.emu.send_chunk(path, os.urandom(GRANULARITY), 0, conn=conn)
        self.assertEqual(status, 200)
        self.assertIs(conn.sock, sock)

    def test_large_upload_is_streamed_to_disk(self):
        data = os.urandom(1 << 20) * 24  # 24 MiB in one request, hashed and stored without holding it
        path = self.emu.session_path(self.emu.start("big.mp4", len(data), "video/mp4"))
        status, _, token = self.emu.send_chunk(path, data, 0, "upload, finalize")
        self.assertEqual(status, 200)
        results = self.emu.batch_create([item(token.decode())])[2]["newMediaItemResults"]
        self.assertEqual(results[0]["mediaItem"]["mediaMetadata"]["video"], {"status": "READY"})
        self.assertEqual(results[0]["mediaItem"]["mimeType"], "video/mp4")
        self.assertEqual(self.emu.stats()["media_items"][0]["sha1"], hashlib.sha1(data).hexdigest())


# --- media items, albums, listing ---------------------------------------------------------------------------


class MediaItemTests(EmulatorTestCase):
    def test_success_shape(self):
        token = self.emu.upload("IMG_1.JPG", b"jpeg bytes")
        status, _, data = self.emu.batch_create([item(token, description="hello")])
        self.assertEqual(status, 200)
        result = data["newMediaItemResults"][0]
        self.assertEqual(result["uploadToken"], token)
        self.assertEqual(result["status"], {"message": "Success"})
        media = result["mediaItem"]
        self.assertEqual(media["productUrl"], f"https://photos.google.com/lr/photo/{media['id']}")
        self.assertEqual((media["mimeType"], media["filename"], media["description"]), ("image/jpeg", "IMG_1.JPG", "hello"))
        meta = media["mediaMetadata"]
        self.assertEqual((meta["width"], meta["height"], meta["photo"]), ("4032", "3024", {}))
        self.assertRegex(meta["creationTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        stat = self.emu.stats()["media_items"][0]
        self.assertEqual((stat["id"], stat["filename"], stat["size"], stat["sha1"], stat["upload_token"], stat["album_id"]),
                         (media["id"], "IMG_1.JPG", 10, hashlib.sha1(b"jpeg bytes").hexdigest(), token, None))

    def test_file_name_overrides_upload_name_and_decides_the_type(self):
        token = self.emu.upload("clip.jpg", b"x")
        result = self.emu.batch_create([item(token, "notes.txt")])[2]["newMediaItemResults"][0]
        self.assertEqual(result["status"], {"code": 3, "message": "NOT_IMAGE: There was an error while trying to create this media item."})
        self.assertNotIn("mediaItem", result)
        # The token was not used up by the failure.
        result = self.emu.batch_create([item(token, "clip.mov")])[2]["newMediaItemResults"][0]
        self.assertEqual(result["mediaItem"]["filename"], "clip.mov")
        self.assertEqual(result["mediaItem"]["mimeType"], "video/quicktime")
        result = self.emu.batch_create([item(self.emu.upload("README", b"x"))])[2]["newMediaItemResults"][0]
        self.assertEqual(result["status"]["code"], 3)

    def test_per_item_results_in_one_call(self):
        good = self.emu.upload("a.png", b"a")
        text = self.emu.upload("b.txt", b"b")
        status, _, data = self.emu.batch_create([item(good), item(text), item("bogus")])
        self.assertEqual(status, 200)
        statuses = [r["status"] for r in data["newMediaItemResults"]]
        self.assertEqual(statuses[0], {"message": "Success"})
        self.assertTrue(statuses[1]["message"].startswith("NOT_IMAGE"))
        self.assertEqual(statuses[2], {"code": 3, "message": "INVALID_ARGUMENT: Failed to add media item: upload token is invalid or expired."})

    def test_more_than_50_items_is_400(self):
        token = self.emu.upload("a.jpg", b"a")
        status, _, data = self.emu.batch_create([item(token)] * 51)
        self.assertEnvelope(status, data, 400, "INVALID_ARGUMENT")
        self.assertEqual(self.emu.stats()["media_items"], [])
        status, _, data = self.emu.batch_create([])
        self.assertEnvelope(status, data, 400, "INVALID_ARGUMENT")

    def test_upload_token_is_consumed(self):
        token = self.emu.upload("a.jpg", b"a")
        self.assertEqual(self.emu.batch_create([item(token)])[2]["newMediaItemResults"][0]["status"]["message"], "Success")
        result = self.emu.batch_create([item(token)])[2]["newMediaItemResults"][0]
        self.assertEqual(result["status"]["code"], 3)
        self.assertIn("upload token is invalid or expired", result["status"]["message"])
        self.assertEqual(len(self.emu.stats()["media_items"]), 1)

    def test_expired_upload_token_fails(self):
        token = self.emu.upload("a.jpg", b"a")
        self.assertEqual(self.emu.control("POST", "expire-upload-tokens")["expired"], 1)
        result = self.emu.batch_create([item(token)])[2]["newMediaItemResults"][0]
        self.assertEqual(result["status"]["code"], 3)
        emu = self.launch_elsewhere("--upload-token-lifetime", "0.2")
        token = emu.raw_upload("a.jpg", b"a")
        time.sleep(0.3)
        self.assertEqual(emu.batch_create([item(token)])[2]["newMediaItemResults"][0]["status"]["code"], 3)

    def test_photo_over_the_limit_is_bad_image(self):
        emu = self.launch_elsewhere("--max-photo-bytes", "1000")
        token = emu.upload("big.jpg", os.urandom(1001))
        result = emu.batch_create([item(token)])[2]["newMediaItemResults"][0]
        self.assertEqual(result["status"]["code"], 3)
        self.assertTrue(result["status"]["message"].startswith("BAD_IMAGE"), result)
        token = emu.upload("big.mp4", os.urandom(1001))
        self.assertIn("mediaItem", emu.batch_create([item(token)])[2]["newMediaItemResults"][0])

    def test_duplicates_by_content(self):
        data = os.urandom(3000)
        first = self.emu.upload("one.jpg", data)
        second = self.emu.raw_upload("two.jpg", data)
        other = self.emu.upload("three.jpg", os.urandom(10))
        self.emu.batch_create([item(first), item(second), item(other)])
        duplicates = self.emu.stats()["duplicates"]
        self.assertEqual(len(duplicates), 1)
        self.assertEqual(duplicates[0]["sha1"], hashlib.sha1(data).hexdigest())
        self.assertEqual(sorted(duplicates[0]["filenames"]), ["one.jpg", "two.jpg"])
        self.assertEqual(len(duplicates[0]["ids"]), 2)

    def test_albums(self):
        status, _, album = self.emu.json_request("POST", "/v1/albums", {"album": {"title": "Trips"}})
        self.assertEqual(status, 200)
        self.assertEqual((album["title"], album["isWriteable"]), ("Trips", True))
        self.assertTrue(album["productUrl"].endswith(album["id"]))
        token = self.emu.upload("a.jpg", b"a")
        status, _, data = self.emu.batch_create([item(token)], album_id="not-ours")
        self.assertEnvelope(status, data, 400, "INVALID_ARGUMENT")
        data = self.emu.batch_create([item(token)], album_id=album["id"])[2]
        media_id = data["newMediaItemResults"][0]["mediaItem"]["id"]
        stats = self.emu.stats()
        self.assertEqual(stats["albums"], [{"id": album["id"], "title": "Trips", "items": [media_id],
                                            "deleted": False, "foreign": False}])
        self.assertEqual(stats["media_items"][0]["album_id"], album["id"])
        status, _, data = self.emu.json_request("POST", "/v1/albums", {"album": {}})
        self.assertEnvelope(status, data, 400, "INVALID_ARGUMENT")

    def test_list_pagination(self):
        status, _, data = self.emu.json_request("GET", "/v1/mediaItems")
        self.assertEqual((status, data), (200, {}))
        tokens = [self.emu.raw_upload(f"{i}.jpg", bytes([i])) for i in range(7)]
        self.emu.batch_create([item(t) for t in tokens])
        names, page_token, pages = [], None, 0
        while True:
            path = "/v1/mediaItems?pageSize=3" + (f"&pageToken={urllib.parse.quote(page_token)}" if page_token else "")
            status, _, data = self.emu.json_request("GET", path)
            self.assertEqual(status, 200)
            pages += 1
            names += [m["filename"] for m in data["mediaItems"]]
            self.assertIn("mediaMetadata", data["mediaItems"][0])
            page_token = data.get("nextPageToken")
            if not page_token:
                break
        # Newest creationTime (derived from the content) first, not upload order.
        times = {m["filename"]: m["creation_time"] for m in self.emu.stats()["media_items"]}
        self.assertEqual((pages, names), (3, sorted(times, key=times.get, reverse=True)))
        self.assertNotEqual(names, [f"{i}.jpg" for i in range(7)])
        self.assertEqual(len(self.emu.json_request("GET", "/v1/mediaItems")[2]["mediaItems"]), 7)  # default 25
        status, _, data = self.emu.json_request("GET", "/v1/mediaItems?pageToken=%21%21")
        self.assertEnvelope(status, data, 400, "INVALID_ARGUMENT")
        self.assertEqual(self.emu.stats()["requests"]["mediaItems.list"], 6)

    def test_concurrent_batch_create_is_429(self):
        first = self.emu.upload("a.jpg", b"a")
        second = self.emu.upload("b.jpg", b"b")
        self.emu.add_fault({"kind": "slow", "delay": 0.8, "endpoint": "batchCreate", "count": 1})
        results = {}
        thread = threading.Thread(target=lambda: results.update(first=self.emu.batch_create([item(first)])))
        thread.start()
        time.sleep(0.3)
        status, _, data = self.emu.batch_create([item(second)])
        thread.join()
        self.assertEnvelope(status, data, 429, "RESOURCE_EXHAUSTED")
        self.assertIn("concurrent write request", data["error"]["message"])
        self.assertEqual(results["first"][0], 200)
        self.assertEqual(self.emu.batch_create([item(second)])[0], 200)  # serially it works
        # Switched off, overlapping calls both succeed.
        self.emu.control("POST", "options", {"reject_concurrent_batch_create": False})
        third, fourth = self.emu.upload("c.jpg", b"c"), self.emu.upload("d.jpg", b"d")
        self.emu.add_fault({"kind": "slow", "delay": 0.5, "endpoint": "batchCreate", "count": 1})
        thread = threading.Thread(target=lambda: results.update(third=self.emu.batch_create([item(third)])))
        thread.start()
        time.sleep(0.2)
        self.assertEqual(self.emu.batch_create([item(fourth)])[0], 200)
        thread.join()
        self.assertEqual(results["third"][0], 200)


# --- faults ---------------------------------------------------------------------------------------------------


class FaultTests(EmulatorTestCase):
    def test_status_fault_on_upload_keeps_nothing(self):
        path = self.emu.session_path(self.emu.start("a.jpg"))
        self.emu.add_fault({"kind": "status", "status": 503, "retry_after": 7, "endpoint": "uploads.upload", "count": 1})
        status, hdrs, body = self.emu.send_chunk(path, os.urandom(GRANULARITY), 0)
        self.assertEnvelope(status, json.loads(body), 503, "UNAVAILABLE")
        self.assertEqual(hdrs["retry-after"], "7")
        self.assertEqual(self.emu.query(path)[1]["x-goog-upload-size-received"], "0")
        session = self.emu.stats()["sessions"][0]
        self.assertEqual((session["received"], session["bytes_received_total"]), (0, GRANULARITY))
        self.assertEqual(self.emu.send_chunk(path, os.urandom(GRANULARITY), 0)[0], 200)  # count used up
        self.assertEqual(self.emu.stats()["faults"], [])

    def test_status_fault_with_expect_does_not_take_the_body(self):
        path = self.emu.session_path(self.emu.start("a.jpg"))
        self.emu.add_fault({"kind": "status", "status": 500, "endpoint": "uploads"})
        with socket.create_connection((self.emu.host, self.emu.port), timeout=5) as sock:
            sock.sendall((f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.emu.token()}\r\n"
                          "X-Goog-Upload-Command: upload\r\nX-Goog-Upload-Offset: 0\r\n"
                          "Content-Length: 1048576\r\nExpect: 100-continue\r\n\r\n").encode())
            with sock.makefile("rb") as f:
                status, headers, body = read_response(f)
        self.assertEqual((status, headers["connection"], json.loads(body)["error"]["status"]), (500, "close", "INTERNAL"))
        self.emu.control("DELETE", "faults")
        self.assertEqual(self.emu.stats()["sessions"][0]["bytes_received_total"], 0)

    def test_status_names_and_counts(self):
        self.emu.token()
        self.emu.add_fault([{"kind": "status", "status": 409, "endpoint": "batchCreate", "count": 2},
                            {"kind": "status", "status": 500, "endpoint": "albums", "count": 1}])
        token = self.emu.upload("a.jpg", b"a")
        for _ in range(2):
            status, _, data = self.emu.batch_create([item(token)])
            self.assertEnvelope(status, data, 409, "ABORTED")
        self.assertEqual(self.emu.batch_create([item(token)])[0], 200)
        status, _, data = self.emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})
        self.assertEnvelope(status, data, 500, "INTERNAL")
        self.assertEqual(self.emu.stats()["requests"]["batchCreate"], 3)

    def test_fault_without_endpoint_spares_the_token_endpoint(self):
        self.emu.add_fault({"kind": "status", "status": 503, "count": 1})
        self.assertEqual(self.emu.grant()[0], 200)  # OAuth is another service
        self.emu.control("DELETE", "faults")
        self.emu.add_fault({"kind": "status", "status": 503, "endpoint": "token", "count": 1})
        status, data = self.emu.grant()
        self.assertEnvelope(status, data, 503, "UNAVAILABLE")
        self.assertEqual(self.emu.grant()[0], 200)
        self.emu.add_fault({"kind": "status", "status": 503})
        self.assertEqual(self.emu.stats()["faults"][0]["status"], 503)  # /_emulator is never faulted
        self.emu.control("DELETE", "faults")
        self.assertEqual(self.emu.stats()["faults"], [])

    def test_rate_limit(self):
        self.emu.add_fault({"kind": "rate_limit", "endpoint": "batchCreate", "retry_after": 30, "count": 1})
        status, hdrs, data = self.emu.batch_create([item("x")])
        self.assertEnvelope(status, data, 429, "RESOURCE_EXHAUSTED")
        self.assertEqual(hdrs["retry-after"], "30")
        self.assertIn("Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' "
                      "of service 'photoslibrary.googleapis.com'", data["error"]["message"])
        self.assertEqual(data["error"]["errors"][0]["reason"], "rateLimitExceeded")

    def test_daily_quota(self):
        self.emu.token()
        self.emu.add_fault({"kind": "daily_quota", "endpoint": "uploads"})
        status, _, body = self.emu.request("POST", "/v1/uploads", b"", {"X-Goog-Upload-Command": "start"})
        data = json.loads(body)
        self.assertEnvelope(status, data, 429, "RESOURCE_EXHAUSTED")
        self.assertIn("Quota exceeded for quota metric 'All requests' and limit 'All requests per day'",
                      data["error"]["message"])

    def test_drop_upload_keeps_the_bytes_that_arrived(self):
        data = os.urandom(4 * GRANULARITY)
        path = self.emu.session_path(self.emu.start("a.jpg", len(data)))
        self.assertEqual(self.emu.send_chunk(path, data[:GRANULARITY], 0)[0], 200)
        self.emu.add_fault({"kind": "drop_upload", "after_bytes": 1000, "count": 1})
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.emu.send_chunk(path, data[GRANULARITY:], GRANULARITY, "upload, finalize")
        status, hdrs, _ = self.emu.query(path)
        self.assertEqual((status, hdrs["x-goog-upload-status"], hdrs["x-goog-upload-size-received"]),
                         (200, "active", str(GRANULARITY + 1000)))
        session = self.emu.stats()["sessions"][0]
        self.assertEqual(session["received"], GRANULARITY + 1000)
        self.assertLessEqual(session["bytes_received_total"], len(data))
        # Resume from where it stands.
        status, _, token = self.emu.send_chunk(path, data[GRANULARITY + 1000:], GRANULARITY + 1000, "upload, finalize")
        self.assertEqual(status, 200)
        self.emu.batch_create([item(token.decode())])
        self.assertEqual(self.emu.stats()["media_items"][0]["sha1"], hashlib.sha1(data).hexdigest())
        drop = [r for r in self.emu.log_records() if r.get("fault") == "drop_upload"]
        self.assertEqual((len(drop), drop[0]["status"], drop[0]["bytes"], drop[0]["offset"]), (1, None, 1000, GRANULARITY))

    def test_slow(self):
        self.emu.add_fault({"kind": "slow", "delay": 0.4, "endpoint": "albums", "count": 1})
        started = time.monotonic()
        self.assertEqual(self.emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)
        started = time.monotonic()
        self.emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})
        self.assertLess(time.monotonic() - started, 0.4)

    def test_omit_media_item(self):
        token = self.emu.upload("a.jpg", b"a")
        self.emu.add_fault({"kind": "omit_media_item", "count": 1})
        result = self.emu.batch_create([item(token)])[2]["newMediaItemResults"][0]
        self.assertEqual(result, {"uploadToken": token, "status": {"message": "Success"}})
        self.assertEqual(self.emu.stats()["media_items"], [])
        self.assertIn("mediaItem", self.emu.batch_create([item(token)])[2]["newMediaItemResults"][0])

    def test_item_status_for_one_file_name(self):
        self.emu.add_fault({"kind": "item_status", "code": 3, "message": "NOT_IMAGE: injected", "file_name": "b.jpg"})
        a, b = self.emu.upload("a.jpg", b"a"), self.emu.upload("b.jpg", b"b")
        results = self.emu.batch_create([item(a), item(b)])[2]["newMediaItemResults"]
        self.assertIn("mediaItem", results[0])
        self.assertEqual(results[1]["status"], {"code": 3, "message": "NOT_IMAGE: injected"})
        self.assertEqual(len(self.emu.stats()["faults"]), 1)  # unlimited

    def test_faults_from_the_command_line_and_validation(self):
        emu = self.launch_elsewhere("--fault", '{"kind":"status","status":503,"endpoint":"albums","count":1}',
                                    "--fault", '[{"kind":"slow","delay":0,"endpoint":"token"}]')
        self.assertEqual([f["kind"] for f in emu.stats()["faults"]], ["status", "slow"])
        status, _, data = emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})
        self.assertEnvelope(status, data, 503, "UNAVAILABLE")
        for bad in ({"kind": "nope"}, {"kind": "status"}, {"kind": "status", "status": 503, "endpoint": "x"},
                    {"kind": "drop_upload", "after_bytes": 1, "endpoint": "batchCreate"},
                    {"kind": "slow", "delay": 1, "count": 0}, {"kind": "slow", "delay": 1, "typo": 1}):
            status, _, _ = emu.json_request("POST", "/_emulator/faults", bad, auth=False)
            self.assertEqual(status, 400, bad)
        result = subprocess.run([sys.executable, EMULATOR, "--data-dir", os.path.join(self.tmp, "x"),
                                 "--fault", '{"kind":"nope"}'], capture_output=True, timeout=10)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, b"")


# --- process, state, log ------------------------------------------------------------------------------------------


class ProcessTests(EmulatorTestCase):
    def test_signals_stop_cleanly_and_port_file(self):
        with open(self.emu.port_file) as f:
            self.assertEqual(int(f.read()), self.emu.port)
        self.assertEqual(self.emu.stop(signal.SIGTERM), 0)
        emu = self.launch()
        self.assertEqual(emu.stop(signal.SIGINT), 0)

    def test_only_loopback_hosts(self):
        result = subprocess.run([sys.executable, EMULATOR, "--data-dir", os.path.join(self.tmp, "x"), "--host", "0.0.0.0"],
                                capture_output=True, timeout=10)
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"loopback", result.stderr)

    def test_state_survives_kill_and_restart(self):
        emu = self.emu
        access = emu.token()
        album = emu.json_request("POST", "/v1/albums", {"album": {"title": "Kept"}})[2]
        token = emu.upload("a.jpg", b"aaa")
        emu.batch_create([item(token)], album_id=album["id"])
        unused = emu.upload("b.jpg", b"bbb")
        data = os.urandom(3 * GRANULARITY)
        path = emu.session_path(emu.start("c.jpg", len(data)))
        emu.send_chunk(path, data[:2 * GRANULARITY], 0)
        before = emu.stats()
        emu.kill()  # SIGKILL: nothing saved at exit
        emu = self.launch()
        after = emu.stats()
        for key in ("media_items", "albums", "sessions", "duplicates"):
            self.assertEqual(after[key], before[key], key)
        emu._token = access  # the old access token is still good
        self.assertEqual(emu.query(path)[1]["x-goog-upload-size-received"], str(2 * GRANULARITY))
        status, _, final = emu.send_chunk(path, data[2 * GRANULARITY:], 2 * GRANULARITY, "upload, finalize")
        self.assertEqual(status, 200)
        results = emu.batch_create([item(unused), item(final.decode()), item(token)])[2]["newMediaItemResults"]
        self.assertEqual([("mediaItem" in r) for r in results], [True, True, False])
        self.assertEqual(emu.stats()["media_items"][2]["sha1"], hashlib.sha1(data).hexdigest())
        emu.control("POST", "revoke")
        self.assertEqual(emu.stop(), 0)
        emu = self.launch()
        self.assertEqual(emu.grant()[1]["error"], "invalid_grant")
        self.assertGreater(emu.stats()["requests"]["batchCreate"], 1)

    def test_log_and_stderr_never_show_secrets(self):
        emu = self.launch_elsewhere("--verbose")
        token = emu.upload("a.jpg", b"a")
        emu.batch_create([item(token)])
        emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})
        emu.grant(client_secret="wrong")
        emu.request("GET", f"/token?refresh_token={REFRESH_TOKEN}", auth=False)
        access = emu.token()
        self.assertEqual(emu.stop(), 0)
        with open(emu.log_path, encoding="utf-8") as f:
            log = f.read()
        stderr = emu.read_stderr()
        for text in (log, stderr):
            for secret in (CLIENT_SECRET, REFRESH_TOKEN, access, "Bearer", "Authorization"):
                self.assertNotIn(secret, text)
        with open(os.path.join(emu.data_dir, "emulator-state.json"), encoding="utf-8") as f:
            self.assertNotIn(access, f.read())
        records = [json.loads(line) for line in log.splitlines()]
        upload = next(r for r in records if r["endpoint"] == "uploads.upload")
        self.assertEqual((upload["method"], upload["path"], upload["status"], upload["offset"], upload["bytes"]),
                         ("POST", "/v1/uploads", 200, 0, 1))
        self.assertIn("upload_id", upload)
        self.assertIn("ts", upload)
        self.assertEqual(next(r for r in records if r["endpoint"] == "batchCreate")["items"], 1)
        self.assertTrue(stderr.strip())  # --verbose wrote the records there


if __name__ == "__main__":
    unittest.main()

"""Tests for what the real Google Photos service does beyond the happy path, as Scripts/photos-emulator
models it: answers lost after the work is done, scopes per token, the storage budget, albums as Google
has them, search and newest-first listing, seeded items, top-level token refusals, transient per-item
status 13 and the upload rate limit answered as 400. Each test starts the emulator process and talks
HTTP to it (helpers shared with test_photos_emulator.py).

    python3 -m unittest discover -s Tests/emulator -v
"""

import hashlib
import http.client
import json
import os
import tempfile
import time
import unittest

from test_photos_emulator import EmulatorTestCase, item

AUTH = "https://www.googleapis.com/auth/"
APPENDONLY = AUTH + "photoslibrary.appendonly"
READONLY_APPCREATED = AUTH + "photoslibrary.readonly.appcreateddata"
STORAGE_MESSAGE = "The remaining storage in the user's account is not enough to perform this operation."
LOST = (http.client.HTTPException, ConnectionError)  # what a client sees when the connection closes unanswered


class GoogleTestCase(EmulatorTestCase):
    """Helpers for the JSON Library API endpoints."""

    def get(self, path, emu=None):
        return (emu or self.emu).json_request("GET", path)

    def search(self, payload, emu=None):
        return (emu or self.emu).json_request("POST", "/v1/mediaItems:search", payload)

    def create_album(self, title, emu=None):
        status, _, album = (emu or self.emu).json_request("POST", "/v1/albums", {"album": {"title": title}})
        self.assertEqual(status, 200, album)
        return album

    def created(self, tokens, album_id=None, emu=None):
        """batchCreate that must succeed for every item; returns the media item ids."""
        status, _, data = (emu or self.emu).batch_create([item(t) for t in tokens], album_id=album_id)
        self.assertEqual(status, 200, data)
        return [r["mediaItem"]["id"] for r in data["newMediaItemResults"]]

    def seed(self, *entries, emu=None):
        return (emu or self.emu).control("POST", "seed", {"items": list(entries)})["media_items"]

    def all_pages(self, fetch):
        """Every item of a paged listing; `fetch(page_token)` answers (status, data)."""
        names, token = [], None
        while True:
            status, data = fetch(token)
            self.assertEqual(status, 200, data)
            names += [x.get("filename") or x.get("title") for x in data.get("mediaItems", data.get("albums", []))]
            token = data.get("nextPageToken")
            if not token:
                return names

    def assertTopLevel400(self, status, data, message):
        self.assertEnvelope(status, data, 400, "INVALID_ARGUMENT")
        self.assertEqual(data["error"]["message"], message)


# --- lose_answer ------------------------------------------------------------------------------------------------


class LoseAnswerTests(GoogleTestCase):
    def test_batch_create_is_committed_and_the_connection_closed(self):
        token = self.emu.upload("a.jpg", b"a")
        self.emu.add_fault({"kind": "lose_answer", "endpoint": "batchCreate", "count": 1})
        with self.assertRaises(LOST):
            self.emu.batch_create([item(token)])
        stats = self.emu.stats()
        self.assertEqual([m["upload_token"] for m in stats["media_items"]], [token])
        self.assertEqual(stats["faults"], [])
        record = [r for r in self.emu.log_records() if r["endpoint"] == "batchCreate"][-1]
        self.assertEqual((record["status"], record["fault"]), (None, "lose_answer"))
        # The re-sent call finds the token used, as at Google.
        result = self.emu.batch_create([item(token)])[2]["newMediaItemResults"][0]
        self.assertEqual(result["status"]["code"], 3)
        self.assertEqual(len(self.emu.stats()["media_items"]), 1)

    def test_album_creation_answered_with_a_status(self):
        self.emu.add_fault({"kind": "lose_answer", "endpoint": "albums", "status": 503, "count": 1})
        status, _, data = self.emu.json_request("POST", "/v1/albums", {"album": {"title": "Trips"}})
        self.assertEnvelope(status, data, 503, "UNAVAILABLE")
        self.create_album("Trips")  # the retry makes a second album of the same title
        self.assertEqual([a["title"] for a in self.emu.stats()["albums"]], ["Trips", "Trips"])

    def test_finalizing_upload_request_only(self):
        data = os.urandom(3000)
        path = self.emu.session_path(self.emu.start("a.jpg", len(data)))
        self.emu.add_fault({"kind": "lose_answer", "endpoint": "uploads", "count": 1})
        self.assertEqual(self.emu.send_chunk(path, data[:1024], 0)[0], 200)  # not finalizing: untouched
        with self.assertRaises(LOST):
            self.emu.send_chunk(path, data[1024:], 1024, "upload, finalize")
        status, hdrs, token = self.emu.query(path)  # the client recovers the token
        self.assertEqual((status, hdrs["x-goog-upload-status"]), (200, "final"))
        self.created([token.decode()])
        self.assertEqual(self.emu.stats()["media_items"][0]["sha1"], hashlib.sha1(data).hexdigest())

    def test_raw_upload_with_status_and_failed_requests_do_not_trigger(self):
        self.emu.add_fault({"kind": "lose_answer", "endpoint": "uploads.raw", "status": 500, "count": 1})
        status, _, body = self.emu.request("POST", "/v1/uploads", b"", {"X-Goog-Upload-Protocol": "raw"})
        self.assertEqual(status, 400)  # empty payload fails: the fault waits
        self.assertEqual(len(self.emu.stats()["faults"]), 1)
        status, _, body = self.emu.request("POST", "/v1/uploads", b"abc", {"X-Goog-Upload-Protocol": "raw",
                                                                          "X-Goog-Upload-File-Name": "a.jpg"})
        self.assertEnvelope(status, json.loads(body), 500, "INTERNAL")
        sessions = self.emu.stats()["sessions"]
        self.assertEqual([s["status"] for s in sessions], ["final"])
        self.assertEqual(self.emu.stats()["faults"], [])

    def test_validation(self):
        for bad in ({"kind": "lose_answer"}, {"kind": "lose_answer", "endpoint": "uploads.start"},
                    {"kind": "lose_answer", "endpoint": "batchCreate", "status": 200},
                    {"kind": "lose_answer", "endpoint": "mediaItems.list"}):
            status, _, _ = self.emu.json_request("POST", "/_emulator/faults", bad, auth=False)
            self.assertEqual(status, 400, bad)


# --- scopes -----------------------------------------------------------------------------------------------------


class ScopeTests(GoogleTestCase):
    ARGS = ("--scopes", APPENDONLY)

    def assertInsufficientScopes(self, status, data):
        self.assertEnvelope(status, data, 403, "PERMISSION_DENIED")
        self.assertEqual(data["error"]["message"], "Request had insufficient authentication scopes.")
        self.assertEqual(data["error"]["details"][0]["reason"], "ACCESS_TOKEN_SCOPE_INSUFFICIENT")

    def test_appendonly_writes_but_cannot_read(self):
        self.assertEqual(self.emu.grant()[1]["scope"], APPENDONLY)
        album = self.create_album("A")
        [media_id] = self.created([self.emu.upload("a.jpg", b"a")], album_id=album["id"])
        for status, _, data in (self.get("/v1/mediaItems"), self.get(f"/v1/mediaItems/{media_id}"),
                                self.get("/v1/albums"), self.get(f"/v1/albums/{album['id']}"),
                                self.search({"albumId": album["id"]})):
            self.assertInsufficientScopes(status, data)

    def test_reading_scope_cannot_upload_and_tokens_keep_their_scopes(self):
        path = self.emu.session_path(self.emu.start("a.jpg"))  # token granted with appendonly
        options = self.emu.control("POST", "options", {"scopes": ["photoslibrary.readonly.appcreateddata"]})
        self.assertEqual(options["scopes"], [READONLY_APPCREATED])
        self.emu.raw_upload("b.jpg", b"b")  # the old token keeps its scopes
        self.emu.control("POST", "expire-access-tokens")
        self.emu._token = None
        self.assertEqual(self.emu.grant()[1]["scope"], READONLY_APPCREATED)
        flat = {"code": 16, "message": "Authentication session is not defined."}
        for status, _, body in (
                self.emu.request("POST", "/v1/uploads", b"x", {"X-Goog-Upload-Protocol": "raw"}),
                self.emu.request("POST", "/v1/uploads", b"", {"X-Goog-Upload-Command": "start"}),
                self.emu.send_chunk(path, b"x", 0, "upload, finalize"),
                self.emu.query(path)):
            self.assertEqual((status, json.loads(body)), (401, flat))
        self.assertInsufficientScopes(*self.emu.batch_create([item("x")])[::2])
        self.assertInsufficientScopes(*self.emu.json_request("POST", "/v1/albums", {"album": {"title": "x"}})[::2])
        self.assertEqual(self.get("/v1/mediaItems")[0], 200)

    def test_broad_scopes_allow_both_and_tokens_survive_a_restart(self):
        for scope in ("photoslibrary", "photoslibrary.edit.appcreateddata"):
            self.emu.control("POST", "options", {"scopes": scope})
            self.emu._token = None
            self.emu.raw_upload("a.jpg", b"a")
            self.assertEqual(self.get("/v1/albums")[0], 200)
        self.emu.control("POST", "options", {"scopes": [APPENDONLY]})
        self.emu._token = None
        access = self.emu.token()
        self.emu.kill()
        emu = self.launch()  # default scopes now, but the saved token keeps appendonly only
        emu._token = access
        self.assertEqual(self.get("/v1/mediaItems", emu)[0], 403)
        emu._token = None
        self.assertEqual(self.get("/v1/mediaItems", emu)[0], 200)

    def test_bad_option_values(self):
        for bad in ({"scopes": 3}, {"storage_bytes": -1}, {"used_token_answer": "x"}, {"nope": 1}, {},
                    {"reject_concurrent_batch_create": "yes"}):
            status, _, data = self.emu.json_request("POST", "/_emulator/options", bad, auth=False)
            self.assertEqual(status, 400, bad)
            self.assertIn("error", data)


# --- storage ----------------------------------------------------------------------------------------------------


class StorageTests(GoogleTestCase):
    ARGS = ("--storage-bytes", "1000")

    def assertStorageRefusal(self, status, body):
        self.assertEqual((status, json.loads(body)), (400, {"code": 3, "message": STORAGE_MESSAGE}))

    def raw(self, data, **kw):
        return self.emu.request("POST", "/v1/uploads", data, {"X-Goog-Upload-Protocol": "raw",
                                                              "X-Goog-Upload-File-Name": "a.jpg"}, **kw)

    def test_uploads_beyond_the_remaining_storage(self):
        self.emu.token()
        self.assertStorageRefusal(*self.emu.request("POST", "/v1/uploads", b"", {
            "X-Goog-Upload-Command": "start", "X-Goog-Upload-Raw-Size": "1001"})[::2])
        self.assertStorageRefusal(*self.raw(os.urandom(1001))[::2])
        self.assertStorageRefusal(*self.raw(iter([os.urandom(600), os.urandom(401)]))[::2])  # chunked
        # Only the chunked upload opened a session (the others were refused before reading).
        self.assertEqual([s["status"] for s in self.emu.stats()["sessions"]], ["failed"])
        self.created([self.emu.upload("a.jpg", os.urandom(600))])
        self.assertEqual(self.emu.stats()["storage"], {"limit": 1000, "used": 600})
        self.assertStorageRefusal(*self.raw(os.urandom(401))[::2])
        self.emu.start("b.jpg", 400)  # exactly what is left is fine
        self.emu.raw_upload("c.jpg", os.urandom(400))

    def test_batch_create_beyond_the_remaining_storage_creates_nothing(self):
        first, second = self.emu.upload("a.jpg", os.urandom(600)), self.emu.upload("b.jpg", os.urandom(600))
        status, _, data = self.emu.batch_create([item(first), item(second), item("bogus")])
        self.assertTopLevel400(status, data, STORAGE_MESSAGE)
        self.assertEqual(self.emu.stats()["media_items"], [])
        self.created([first])  # the tokens stayed valid
        self.assertTopLevel400(*self.emu.batch_create([item(second)])[::2], STORAGE_MESSAGE)
        self.assertEqual(self.emu.control("POST", "options", {"storage_bytes": None})["storage_bytes"], None)
        self.created([second])
        self.assertEqual(self.emu.stats()["storage"], {"limit": None, "used": 1200})


# --- albums, search, listing, seeds ----------------------------------------------------------------------------


class AlbumTests(GoogleTestCase):
    def test_list_get_and_counts(self):
        self.assertEqual(self.get("/v1/albums")[::2], (200, {}))
        albums = [self.create_album(f"album {i}") for i in range(3)]
        self.assertNotIn("mediaItemsCount", albums[0])
        foreign = self.emu.control("POST", "albums", {"title": "theirs", "foreign": True})
        self.assertFalse(foreign["isWriteable"])
        self.created([self.emu.raw_upload(f"{i}.jpg", bytes([i])) for i in range(2)], album_id=albums[2]["id"])
        self.emu.control("DELETE", f"albums/{albums[1]['id']}")
        titles = self.all_pages(lambda t: self.get("/v1/albums?pageSize=1" + (f"&pageToken={t}" if t else ""))[::2])
        self.assertEqual(titles, ["album 0", "album 2"])
        status, _, album = self.get(f"/v1/albums/{albums[2]['id']}")
        self.assertEqual((status, album["mediaItemsCount"], album["isWriteable"]), (200, "2", True))
        for album_id in (albums[1]["id"], foreign["id"], "unknown"):
            self.assertEnvelope(*self.get(f"/v1/albums/{album_id}")[::2], 404, "NOT_FOUND")
        stats = {a["title"]: a for a in self.emu.stats()["albums"]}
        self.assertEqual((stats["album 1"]["deleted"], stats["theirs"]["foreign"], stats["album 2"]["deleted"]),
                         (True, True, False))
        requests = self.emu.stats()["requests"]
        self.assertEqual((requests["albums.list"], requests["albums.get"], requests["albums"]), (3, 4, 3))

    def test_page_sizes(self):
        for i in range(52):
            self.emu.control("POST", "albums", {"title": f"a{i}"})
        self.assertEqual(len(self.get("/v1/albums")[2]["albums"]), 20)
        status, _, data = self.get("/v1/albums?pageSize=500")
        self.assertEqual((status, len(data["albums"]), data["albums"][0]["title"]), (200, 50, "a0"))
        self.assertEqual(len(self.get(f"/v1/albums?pageToken={data['nextPageToken']}")[2]["albums"]), 2)

    def test_batch_create_into_a_deleted_unknown_or_foreign_album(self):
        album = self.create_album("mine")
        token = self.emu.upload("a.jpg", b"a")
        [media_id] = self.created([token], album_id=album["id"])
        self.assertEqual(self.emu.control("DELETE", f"albums/{album['id']}")["deleted"], True)
        foreign = self.emu.control("POST", "albums", {"title": "theirs", "foreign": True})
        other = self.emu.upload("b.jpg", b"b")
        for album_id in (album["id"], foreign["id"], "unknown"):
            self.assertTopLevel400(*self.emu.batch_create([item(other)], album_id=album_id)[::2],
                                   "No permission to add media items to this album.")
        stats = self.emu.stats()
        self.assertEqual([(m["id"], m["album_id"]) for m in stats["media_items"]], [(media_id, None)])
        self.assertEqual(len(self.get("/v1/mediaItems")[2]["mediaItems"]), 1)  # still in the library
        self.created([other])
        status, _, data = self.emu.json_request("DELETE", "/_emulator/albums/unknown", auth=False)
        self.assertEqual(status, 404)

    def test_search_returns_album_order(self):
        album = self.create_album("A")
        first = self.created([self.emu.raw_upload(n, n.encode()) for n in ("c.jpg", "a.jpg", "b.jpg")], album["id"])
        second = self.created([self.emu.raw_upload(n, n.encode()) for n in ("e.jpg", "d.jpg")], album["id"])
        self.created([self.emu.raw_upload("other.jpg", b"o")])
        names = self.all_pages(lambda t: self.search({"albumId": album["id"], "pageSize": 2,
                                                      **({"pageToken": t} if t else {})})[::2])
        self.assertEqual(names, ["c.jpg", "a.jpg", "b.jpg", "e.jpg", "d.jpg"])
        self.assertEqual(self.emu.stats()["albums"][0]["items"], first + second)
        self.assertEqual(self.get(f"/v1/albums/{album['id']}")[2]["mediaItemsCount"], "5")
        listed = [m["id"] for m in self.get("/v1/mediaItems")[2]["mediaItems"]]
        self.assertEqual([m["id"] for m in self.search({})[2]["mediaItems"]], listed)
        empty = self.create_album("empty")
        self.assertEqual(self.search({"albumId": empty["id"]})[::2], (200, {}))
        self.emu.control("DELETE", f"albums/{album['id']}")
        for payload in ({"albumId": album["id"]}, {"albumId": "unknown"},
                        {"albumId": empty["id"], "filters": {"mediaTypeFilter": {"mediaTypes": ["PHOTO"]}}}):
            self.assertEnvelope(*self.search(payload)[::2], 400, "INVALID_ARGUMENT")
        self.assertEqual(self.emu.stats()["requests"]["mediaItems.search"], 8)


class ListingTests(GoogleTestCase):
    def test_newest_first_with_seeded_items(self):
        album = self.create_album("old")
        seeded = self.seed({"filename": "IMG_0001.JPG", "creation_time": "2011-05-01T10:00:00Z", "size": 100},
                           {"filename": "IMG_0002.JPG", "creation_time": "2031-01-01T00:00:00+02:00",
                            "album_id": album["id"]},
                           {"filename": "IMG_0001.JPG", "creation_time": "2011-05-01T10:00:00Z", "size": 50},
                           {"filename": "clip.mov"})
        self.assertEqual(seeded[1]["creation_time"], "2030-12-31T22:00:00Z")
        self.assertEqual((seeded[0]["sha1"], seeded[0]["upload_token"], seeded[3]["mime_type"]),
                         (None, None, "video/quicktime"))
        uploaded = self.created([self.emu.upload("new.jpg", os.urandom(20))])
        items = self.get("/v1/mediaItems")[2]["mediaItems"]
        times = [m["mediaMetadata"]["creationTime"] for m in items]
        self.assertEqual(times, sorted(times, reverse=True))
        self.assertEqual(items[0]["filename"], "IMG_0002.JPG")
        tied = [m["id"] for m in items if m["filename"] == "IMG_0001.JPG"]
        self.assertEqual(tied, sorted([seeded[0]["id"], seeded[2]["id"]]))
        self.assertIn("video", next(m for m in items if m["filename"] == "clip.mov")["mediaMetadata"])
        stats = self.emu.stats()
        self.assertEqual((stats["duplicates"], stats["storage"]["used"]), ([], 170))
        self.assertEqual(stats["albums"][0]["items"], [seeded[1]["id"]])
        status, _, media = self.get(f"/v1/mediaItems/{uploaded[0]}")
        self.assertEqual((status, media["filename"]), (200, "new.jpg"))
        self.assertEnvelope(*self.get("/v1/mediaItems/unknown")[::2], 404, "NOT_FOUND")
        self.assertEqual(self.emu.stats()["requests"]["mediaItems.get"], 2)

    def test_seed_is_all_or_nothing(self):
        for bad in ({"items": [{"filename": "a.jpg"}, {"size": 3}]}, {"items": []},
                    {"items": [{"filename": "a.jpg", "creation_time": "yesterday"}]},
                    {"items": [{"filename": "a.jpg", "album_id": "unknown"}]},
                    {"items": [{"filename": "a.jpg", "typo": 1}]}):
            status, _, data = self.emu.json_request("POST", "/_emulator/seed", bad, auth=False)
            self.assertEqual(status, 400, bad)
            self.assertIn("error", data)
        self.assertEqual(self.emu.stats()["media_items"], [])

    def test_creation_time_comes_from_the_content(self):
        same = os.urandom(100)
        results = self.emu.batch_create([item(self.emu.upload("a.jpg", same)), item(self.emu.raw_upload("b.jpg", same)),
                                         item(self.emu.upload("c.jpg", os.urandom(100)))])[2]["newMediaItemResults"]
        times = [r["mediaItem"]["mediaMetadata"]["creationTime"] for r in results]
        self.assertEqual(times[0], times[1])
        self.assertNotEqual(times[0], times[2])
        for t in times:
            self.assertRegex(t, r"^20(0\d|1\d|2[0-4])-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(len(self.emu.stats()["duplicates"]), 1)

    def test_pages_hold_at_most_100(self):
        self.seed(*({"filename": f"{i}.jpg"} for i in range(105)))
        status, _, data = self.get("/v1/mediaItems?pageSize=1000")
        self.assertEqual((status, len(data["mediaItems"])), (200, 100))
        self.assertEqual(len(self.get(f"/v1/mediaItems?pageToken={data['nextPageToken']}")[2]["mediaItems"]), 5)


# --- batchCreate answers ----------------------------------------------------------------------------------------


class BatchCreateAnswerTests(GoogleTestCase):
    ARGS = ("--used-token-answer", "top_level")

    def test_top_level_refusal_of_a_bad_upload_token(self):
        self.assertEqual(self.emu.stats()["options"]["used_token_answer"], "top_level")
        used = self.emu.upload("a.jpg", b"a")
        self.created([used])
        expired = self.emu.upload("c.jpg", b"c")
        self.emu.control("POST", "expire-upload-tokens")
        good = self.emu.upload("b.jpg", b"b")
        for bad in (used, "bogus", expired):
            self.assertTopLevel400(*self.emu.batch_create([item(good), item(bad)])[::2],
                                   "Request must contain a valid upload token.")
        self.assertEqual(len(self.emu.stats()["media_items"]), 1)
        self.created([good])  # untouched by the refusals
        self.emu.control("POST", "options", {"used_token_answer": "per_item"})
        result = self.emu.batch_create([item(used)])[2]["newMediaItemResults"][0]
        self.assertEqual(result["status"]["code"], 3)

    def test_item_status_13_leaves_the_token_valid(self):
        token = self.emu.upload("a.jpg", b"a")
        faults = self.emu.add_fault({"kind": "item_status", "code": 13, "count": 1})["faults"]
        self.assertEqual(faults[0]["message"], "Failed: There was an error while trying to create this media item.")
        result = self.emu.batch_create([item(token)])[2]["newMediaItemResults"][0]
        self.assertEqual(result, {"uploadToken": token, "status": {
            "code": 13, "message": "Failed: There was an error while trying to create this media item."}})
        self.assertEqual(self.emu.stats()["media_items"], [])
        self.created([token])

    def test_uploads_per_minute_is_a_400(self):
        faults = self.emu.add_fault({"kind": "uploads_per_minute", "retry_after": 5})["faults"]
        self.assertEqual(faults[0]["endpoint"], "uploads")
        status, hdrs, body = self.emu.request("POST", "/v1/uploads", b"a", {"X-Goog-Upload-Protocol": "raw"})
        data = json.loads(body)
        self.assertEnvelope(status, data, 400, "INVALID_ARGUMENT")
        self.assertEqual(hdrs["retry-after"], "5")
        self.assertTrue(data["error"]["message"].startswith(
            "Insufficient tokens for quota 'UploadsPerMinute' and limit 'UploadsPerMinutePerUser' of service "
            "'photoslibrary.googleapis.com' for consumer 'project_number:"), data)
        self.assertEqual(self.create_album("not an upload")["title"], "not an upload")


class StateTests(GoogleTestCase):
    def test_a_version_1_state_file_still_loads(self):
        directory = tempfile.mkdtemp(dir=self.tmp)
        os.makedirs(os.path.join(directory, "data"))
        media = {"id": "AF1QipOld", "filename": "old.jpg", "description": "", "mime_type": "image/jpeg",
                 "kind": "photo", "album_id": "AF1QipAlbum", "sha1": "ab" * 20, "size": 7, "upload_token": "CAISold",
                 "upload_id": "AEnB2Uold", "creation_time": "2024-01-02T03:04:05.123456Z"}
        state = {"version": 1, "sessions": {}, "upload_tokens": {}, "media_items": [media],
                 "albums": [{"id": "AF1QipAlbum", "title": "Old", "items": ["AF1QipOld"]}],
                 "access_tokens": {hashlib.sha256(b"ya29.legacy").hexdigest(): time.time() + 600},
                 "revoked_refresh_tokens": [], "requests": {"batchCreate": 4}}
        with open(os.path.join(directory, "data", "emulator-state.json"), "w") as f:
            json.dump(state, f)
        emu = self.launch(directory=directory)
        emu._token = "ya29.legacy"  # a version 1 token: the default scopes
        self.assertEqual(self.get("/v1/albums/AF1QipAlbum", emu)[2]["mediaItemsCount"], "1")
        self.assertEqual(self.search({"albumId": "AF1QipAlbum"}, emu)[2]["mediaItems"][0]["id"], "AF1QipOld")
        emu.raw_upload("new.jpg", b"new")
        stats = emu.stats()
        self.assertEqual((stats["albums"][0]["deleted"], stats["albums"][0]["foreign"]), (False, False))
        self.assertEqual((stats["storage"]["used"], stats["requests"]["batchCreate"]), (7, 4))


if __name__ == "__main__":
    unittest.main()

"""Tests for the OAuth flow for installed apps as Scripts/photos-emulator models Google's authorization
server: GET /o/oauth2/v2/auth (loopback redirect, PKCE S256, an immediate simulated consent) and the
authorization_code grant at POST /token, whose refresh token then works with the refresh grant and
the Library API. A real loopback HTTP listener plays the app's redirect target, and the "browser" is
urllib with redirects switched off, so each 302 is followed by hand as a browser would.

    python3 -m unittest discover -s Tests/emulator -v
"""

import base64
import hashlib
import http.server
import json
import os
import secrets
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request

from test_photos_emulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, EmulatorTestCase

AUTH = "https://www.googleapis.com/auth/"
APPENDONLY = AUTH + "photoslibrary.appendonly"
READONLY_APPCREATED = AUTH + "photoslibrary.readonly.appcreateddata"
SCOPES = [APPENDONLY, READONLY_APPCREATED]
AUTHORIZE_PATH = "/o/oauth2/v2/auth"
HANG_GUARD = 30  # seconds: only a hung emulator or listener ever waits this long


def new_verifier():
    """A PKCE code verifier: 64 characters of the unreserved set."""
    return secrets.token_urlsafe(48)


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx comes back as an HTTPError, which `browse` turns into an answer


def browse(url):
    """GET `url` as a browser's first step: (status, lower-case headers, body text), redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=HANG_GUARD) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as answer:
        with answer:
            return answer.code, {k.lower(): v for k, v in answer.headers.items()}, answer.read().decode()


class LoopbackListener:
    """The app's redirect target: an HTTP server on 127.0.0.1 (port 0) that records the query of
    each request it receives and answers a short page."""

    def __init__(self, path="/"):
        self.queries = []
        self.received = threading.Event()
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                listener.queries.append(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query,
                                                              keep_blank_values=True))
                listener.received.set()
                body = b"Authorization received; you may close this window.\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(HANG_GUARD)

    def last_query(self):
        """The query of the request the browser delivered (each value once)."""
        assert self.received.wait(HANG_GUARD), "the browser never reached the loopback listener"
        return {name: values[0] for name, values in self.queries[-1].items()}


class InstalledAppFlowTestCase(EmulatorTestCase):
    """Helpers: build authorization URLs, play the browser, exchange codes."""

    def setUp(self):
        super().setUp()
        self.listener = LoopbackListener()
        self.addCleanup(self.listener.close)

    def authorization_url(self, emu=None, drop=(), **overrides):
        params = {"client_id": CLIENT_ID, "redirect_uri": self.listener.redirect_uri, "response_type": "code",
                  "scope": " ".join(SCOPES), "code_challenge": s256(self.verifier), "code_challenge_method": "S256",
                  "state": "state-123", "access_type": "offline", "prompt": "consent"}
        params.update(overrides)
        query = urllib.parse.urlencode({k: v for k, v in params.items() if k not in drop and v is not None})
        emu = emu or self.emu
        return f"http://{emu.host}:{emu.port}{AUTHORIZE_PATH}?{query}"

    @property
    def verifier(self):
        if not hasattr(self, "_verifier"):
            self._verifier = new_verifier()
        return self._verifier

    def consent(self, emu=None, **overrides):
        """The browser's journey: the authorization URL answers 302, the browser follows the Location
        to the loopback listener; returns the query the listener received."""
        status, headers, body = browse(self.authorization_url(emu, **overrides))
        self.assertEqual(status, 302, body)
        location = headers["location"]
        self.assertTrue(location.startswith(self.listener.redirect_uri + "?"), location)
        self.listener.received.clear()
        status, _, _ = browse(location)
        self.assertEqual(status, 200)
        return self.listener.last_query()

    def exchange(self, code, emu=None, verifier=None, **overrides):
        fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.listener.redirect_uri,
                  "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                  "code_verifier": self.verifier if verifier is None else verifier}
        fields.update(overrides)
        body = urllib.parse.urlencode({k: v for k, v in fields.items() if v is not None})
        status, _, data = (emu or self.emu).request("POST", "/token", body,
                                                     {"Content-Type": "application/x-www-form-urlencoded"},
                                                     auth=False)
        return status, json.loads(data)

    def refresh_token(self, emu=None, **overrides):
        """A whole successful flow; returns the refresh token it handed out."""
        status, data = self.exchange(self.consent(emu, **overrides)["code"], emu)
        self.assertEqual(status, 200, data)
        return data["refresh_token"]

    def assertRefusalPage(self, url, status, error):
        code, headers, body = browse(url)
        self.assertEqual(code, status, body)
        self.assertNotIn("location", headers)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertIn(f"Error {status}: {error}", body)
        return body

    def assertOAuthError(self, answer, status, error):
        """`answer` is the token endpoint's (status, JSON): that status and OAuth error, no token."""
        self.assertEqual((answer[0], answer[1].get("error")), (status, error), answer)
        self.assertNotIn("access_token", answer[1])


class HappyPathTests(InstalledAppFlowTestCase):
    def test_consent_exchange_refresh_and_an_api_call(self):
        query = self.consent()
        self.assertEqual(set(query), {"code", "scope", "state"})
        self.assertEqual((query["state"], query["scope"].split()), ("state-123", SCOPES))
        status, tokens = self.exchange(query["code"])
        self.assertEqual(status, 200, tokens)
        self.assertEqual(set(tokens), {"access_token", "expires_in", "refresh_token", "scope", "token_type"})
        self.assertEqual((tokens["expires_in"], tokens["token_type"]), (3599, "Bearer"))
        self.assertEqual(tokens["scope"].split(), SCOPES)
        self.assertNotEqual(tokens["refresh_token"], REFRESH_TOKEN)
        # The new refresh token works with the refresh grant, and its access token with the API.
        status, granted = self.emu.grant(refresh_token=tokens["refresh_token"])
        self.assertEqual(status, 200, granted)
        self.assertEqual(granted["scope"].split(), SCOPES)
        self.emu._token = granted["access_token"]
        self.assertEqual(self.emu.json_request("POST", "/v1/albums", {"album": {"title": "From auth"}})[0], 200)
        status, _, albums = self.emu.json_request("GET", "/v1/albums")
        self.assertEqual((status, [a["title"] for a in albums["albums"]]), (200, ["From auth"]))
        # The flow is on record in the stats and the log.
        audit = self.emu.stats()["authorizations"]
        self.assertEqual(len(audit), 1)
        self.assertEqual((audit[0]["outcome"], audit[0]["exchanges"], audit[0]["refresh_token_issued"],
                          audit[0]["redirect_uri"], audit[0]["code_challenge_method"]),
                         ("code", ["ok"], True, self.listener.redirect_uri, "S256"))
        self.assertEqual(self.emu.stats()["refresh_tokens_issued"], [tokens["refresh_token"]])
        records = self.emu.log_records()
        self.assertIn(("authorize", 302, "code"), [(r["endpoint"], r["status"], r.get("outcome")) for r in records])
        self.assertIn(("token", 200, "authorization_code", "ok"),
                      [(r["endpoint"], r["status"], r.get("grant_type"), r.get("outcome")) for r in records])
        self.assertEqual(self.emu.stats()["requests"]["authorize"], 1)

    def test_consented_scopes_bound_the_refresh_token(self):
        refresh = self.refresh_token(scope=APPENDONLY)
        status, granted = self.emu.grant(refresh_token=refresh)
        self.assertEqual((status, granted["scope"]), (200, APPENDONLY))
        self.emu._token = granted["access_token"]
        self.assertEqual(self.emu.json_request("POST", "/v1/albums", {"album": {"title": "w"}})[0], 200)
        status, _, data = self.emu.json_request("GET", "/v1/albums")
        self.assertEqual((status, data["error"]["status"]), (403, "PERMISSION_DENIED"))

    def test_state_is_echoed_exactly_and_left_out_when_absent(self):
        state = "a b+c&d=e/f?g%h~é#i:j"
        self.assertEqual(self.consent(state=state)["state"], state)
        status, headers, _ = browse(self.authorization_url(state=None))
        self.assertEqual(status, 302)
        self.assertNotIn("state=", headers["location"])
        self.assertIn("%20", headers["location"])  # the scopes are separated by %20, as Google writes them

    def test_loopback_forms_google_allows(self):
        for uri in ("http://localhost:8080/callback", "http://[::1]:1/", "http://127.0.0.1:65535",
                    "http://127.0.0.1/"):
            with self.subTest(uri=uri):
                status, headers, body = browse(self.authorization_url(redirect_uri=uri))
                self.assertEqual(status, 302, body)
                self.assertTrue(headers["location"].startswith(uri + "?code="), headers["location"])

    def test_refresh_tokens_survive_a_restart_and_revoke_ends_them(self):
        refresh = self.refresh_token()
        self.assertEqual(self.emu.stop(), 0)
        emu = self.launch()
        self.assertEqual(emu.grant(refresh_token=refresh)[0], 200)
        emu.control("POST", "revoke")
        status, data = emu.grant(refresh_token=refresh)
        self.assertEqual((status, data["error"]), (400, "invalid_grant"))


class RefusedAuthorizationTests(InstalledAppFlowTestCase):
    def test_redirect_uri_must_be_a_loopback_address(self):
        for uri in ("https://127.0.0.1:8080/", "http://example.com:8080/", "http://127.0.0.1.example.com:80/",
                    "urn:ietf:wg:oauth:2.0:oob", "http://user@127.0.0.1:8080/", "http://127.0.0.1:8080/?x=1",
                    "http://127.0.0.1:8080/#x", "http://127.0.0.1:99999/", "http://127.0.0.1:0/",
                    "https://developers.google.com/oauthplayground"):
            with self.subTest(uri=uri):
                body = self.assertRefusalPage(self.authorization_url(redirect_uri=uri), 400, "redirect_uri_mismatch")
                self.assertIn("Authorization Error", body)
        self.assertRefusalPage(self.authorization_url(drop=("redirect_uri",)), 400, "invalid_request")
        self.assertEqual(self.listener.queries, [])

    def test_unknown_client_is_401_before_the_redirect_is_looked_at(self):
        self.assertRefusalPage(self.authorization_url(client_id="someone-else"), 401, "invalid_client")
        self.assertRefusalPage(self.authorization_url(client_id="x", redirect_uri="https://a.example/"),
                               401, "invalid_client")
        self.assertRefusalPage(self.authorization_url(drop=("client_id",)), 400, "invalid_request")

    def test_response_type_must_be_code(self):
        self.assertRefusalPage(self.authorization_url(response_type="token"), 400, "unsupported_response_type")
        self.assertRefusalPage(self.authorization_url(drop=("response_type",)), 400, "invalid_request")

    def test_pkce_must_be_s256(self):
        self.assertRefusalPage(self.authorization_url(code_challenge=self.verifier, code_challenge_method="plain"),
                               400, "invalid_request")
        self.assertRefusalPage(self.authorization_url(drop=("code_challenge_method",)), 400, "invalid_request")
        self.assertRefusalPage(self.authorization_url(drop=("code_challenge",)), 400, "invalid_request")
        self.assertRefusalPage(self.authorization_url(code_challenge="too-short"), 400, "invalid_request")

    def test_unknown_scopes_are_invalid_scope(self):
        self.assertRefusalPage(self.authorization_url(scope=APPENDONLY + " " + AUTH + "drive"), 400, "invalid_scope")
        self.assertRefusalPage(self.authorization_url(scope="photoslibrary.appendonly"), 400, "invalid_scope")
        self.assertRefusalPage(self.authorization_url(drop=("scope",)), 400, "invalid_request")

    def test_repeated_parameters_and_bad_access_type_are_invalid_request(self):
        self.assertRefusalPage(self.authorization_url() + "&state=again", 400, "invalid_request")
        self.assertRefusalPage(self.authorization_url(access_type="forever"), 400, "invalid_request")

    def test_refusals_are_audited(self):
        self.assertRefusalPage(self.authorization_url(redirect_uri="https://a.example/"), 400, "redirect_uri_mismatch")
        audit = self.emu.stats()["authorizations"]
        self.assertEqual([(a["outcome"], a["redirect_uri"]) for a in audit],
                         [("redirect_uri_mismatch", "https://a.example/")])
        record = [r for r in self.emu.log_records() if r["endpoint"] == "authorize"][-1]
        self.assertEqual((record["status"], record["outcome"], record["path"]), (400, "redirect_uri_mismatch",
                                                                                 AUTHORIZE_PATH))

    def test_only_a_fault_naming_authorize_reaches_it(self):
        self.emu.add_fault({"kind": "status", "status": 503})
        self.assertEqual(browse(self.authorization_url())[0], 302)
        self.emu.add_fault({"kind": "status", "status": 503, "endpoint": "authorize", "count": 1})
        self.assertEqual(browse(self.authorization_url())[0], 503)


class AccessDeniedTests(InstalledAppFlowTestCase):
    ARGS = ("--consent", "deny")

    def test_cancel_redirects_with_access_denied_and_the_state(self):
        query = self.consent(state="s/1 2")
        self.assertEqual(query, {"error": "access_denied", "state": "s/1 2"})
        self.assertEqual(self.emu.stats()["authorizations"][-1]["outcome"], "access_denied")
        self.assertEqual(self.emu.control("POST", "options", {"consent": "allow"})["consent"], "allow")
        self.assertIn("code", self.consent())
        self.emu.control("POST", "options", {"consent": "deny"})
        self.assertEqual(self.consent(state=None), {"error": "access_denied"})
        status, _, data = self.emu.json_request("POST", "/_emulator/options", {"consent": "maybe"}, auth=False)
        self.assertEqual(status, 400, data)


class CodeExchangeTests(InstalledAppFlowTestCase):
    def test_a_code_is_single_use(self):
        code = self.consent()["code"]
        self.assertEqual(self.exchange(code)[0], 200)
        self.assertOAuthError(self.exchange(code), 400, "invalid_grant")
        self.assertEqual(self.emu.stats()["authorizations"][0]["exchanges"], ["ok", "invalid_grant"])

    def test_a_wrong_verifier_is_invalid_grant_and_uses_the_code_up(self):
        code = self.consent()["code"]
        self.assertOAuthError(self.exchange(code, verifier=new_verifier()), 400, "invalid_grant")
        self.assertOAuthError(self.exchange(code), 400, "invalid_grant")

    def test_a_missing_or_malformed_verifier(self):
        self.assertOAuthError(self.exchange(self.consent()["code"], code_verifier=None), 400, "invalid_grant")
        self.assertOAuthError(self.exchange(self.consent()["code"], verifier="short"), 400, "invalid_request")

    def test_without_a_challenge_no_verifier_may_be_sent(self):
        code = self.consent(drop=("code_challenge", "code_challenge_method"))["code"]
        self.assertOAuthError(self.exchange(code), 400, "invalid_grant")
        code = self.consent(drop=("code_challenge", "code_challenge_method"))["code"]
        status, data = self.exchange(code, code_verifier=None)
        self.assertEqual(status, 200, data)

    def test_the_redirect_uri_must_be_the_one_of_the_code(self):
        code = self.consent()["code"]
        self.assertOAuthError(self.exchange(code, redirect_uri=self.listener.redirect_uri + "other"),
                              400, "redirect_uri_mismatch")

    def test_client_credentials_and_unknown_codes(self):
        code = self.consent()["code"]
        self.assertOAuthError(self.exchange(code, client_secret="wrong"), 401, "invalid_client")
        self.assertOAuthError(self.exchange("4/0Aemu-made-up"), 400, "invalid_grant")
        self.assertOAuthError(self.exchange(None), 400, "invalid_request")
        self.assertEqual(self.exchange(code)[0], 200)  # none of the refusals above used the code up

    def test_a_code_expires(self):
        code = self.consent()["code"]
        self.assertEqual(self.emu.control("POST", "expire-authorization-codes"), {"expired": 1})
        self.assertOAuthError(self.exchange(code), 400, "invalid_grant")
        emu = self.launch_elsewhere("--code-lifetime", "0")
        self.assertOAuthError(self.exchange(self.consent(emu)["code"], emu), 400, "invalid_grant")

    def test_a_refresh_token_needs_offline_access_and_comes_once_without_prompt_consent(self):
        status, data = self.exchange(self.consent(access_type="online")["code"])
        self.assertEqual(status, 200, data)
        self.assertNotIn("refresh_token", data)
        self.assertIn("refresh_token", self.exchange(self.consent(prompt=None)["code"])[1])
        self.assertNotIn("refresh_token", self.exchange(self.consent(prompt=None)["code"])[1])
        self.assertIn("refresh_token", self.exchange(self.consent()["code"])[1])


class SecretTests(InstalledAppFlowTestCase):
    ARGS = ("--verbose",)

    def test_no_secret_reaches_the_log_stderr_or_state_file(self):
        query = self.consent()
        status, tokens = self.exchange(query["code"])
        self.assertEqual(status, 200, tokens)
        self.exchange(query["code"])  # a refused re-use is logged too
        status, granted = self.emu.grant(refresh_token=tokens["refresh_token"])
        self.assertEqual(status, 200, granted)
        stats_text = json.dumps(self.emu.stats()["authorizations"])
        self.assertEqual(self.emu.stop(), 0)
        with open(self.emu.log_path, encoding="utf-8") as f:
            log = f.read()
        with open(os.path.join(self.emu.data_dir, "emulator-state.json"), encoding="utf-8") as f:
            state = f.read()
        self.assertIn('"endpoint":"authorize"', log)
        self.assertIn('"grant_type":"authorization_code"', log)
        self.assertIn("authorize", self.emu.read_stderr())  # --verbose wrote the records there too
        secrets_ = (CLIENT_SECRET, tokens["refresh_token"], tokens["access_token"], granted["access_token"],
                    query["code"], self.verifier)
        for name, text in (("log", log), ("stderr", self.emu.read_stderr()), ("state", state),
                           ("audit", stats_text)):
            for secret in secrets_:
                self.assertNotIn(secret, text, f"a secret is in the {name}")


if __name__ == "__main__":
    unittest.main()

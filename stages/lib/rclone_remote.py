"""What the rclone stages (rclone-list, rclone-fetch, rclone-upload) share: the remote described
by `with:` (a configured rclone remote, or url/type/host/… turned into RCLONE_CONFIG_* variables
with the password obscured and never printed), running rclone with its JSON log, and mapping its
exit statuses and messages to the stage protocol's retryable/permanent failures.

Not a stage: it lives in stages/lib/ so `run:` never finds it.
"""
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys

REMOTE_NAME = "pipelineremote"  # the remote made from url:/type: keys: RCLONE_CONFIG_PIPELINEREMOTE_*
ENV_PREFIX = "RCLONE_CONFIG_" + REMOTE_NAME.upper() + "_"
CONNECTION_KEYS = ("url", "type", "host")
SECRETS = []  # the password, plain and obscured: never printed, scrubbed from whatever rclone says


class ConfigError(Exception):
    """A mistake in `with:`: retrying will not help."""


def send(**message):
    print(json.dumps(message, ensure_ascii=False), flush=True)


def scrub(text):
    text = str(text)
    for secret in SECRETS:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def fail(message, retryable=False, status=None, **extra):
    send(type="result", status="error", message=scrub(message), retryable=retryable, **extra)
    sys.exit(status if status is not None else (75 if retryable else 1))


def text_of(value):
    """A `with:` value as text: true → "true", 21 → "21" (numbers from ${VAR}s arrive as strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_true(value):
    return value is True or str(value).strip().lower() in ("true", "yes", "on", "1")


def split_remote(spec):
    """("name:", "folder") for an rclone remote path; ("", spec) for a local path."""
    if spec.startswith(("/", "./", "../")) or spec in (".", ".."):
        return "", spec
    quote = None
    for index, char in enumerate(spec):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ":" and index > 0:
            return spec[:index + 1], spec[index + 1:]
        elif char == "/":
            break
    return "", spec


def join(*parts):
    """Folders joined with single slashes; a leading "/" of the first non-empty part is kept."""
    parts = [part for part in parts if part]
    if not parts:
        return ""
    joined = "/".join(part.strip("/") for part in parts)
    joined = "/".join(segment for segment in joined.split("/") if segment)
    return ("/" + joined) if parts[0].startswith("/") else joined


class Remote:
    """Where a stage reads or writes, from its `with:`: the rclone path prefix, the folder, the env."""

    def __init__(self, options, folder_key, allow_bare_folder=False, ftp_defaults=None):
        self.options = options
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
        executable = text_of(options.get("rclone", "rclone"))
        self.rclone = shutil.which(executable)
        if self.rclone is None:
            raise ConfigError(f"rclone is not installed ('{executable}' not found): apt-get install rclone, "
                              "or set 'with: { rclone: PATH }'")
        self.flags = []
        if options.get("config"):
            self.flags += ["--config", text_of(options["config"])]
        if options.get("ca_file"):
            self.flags += ["--ca-cert", os.path.abspath(text_of(options["ca_file"]))]
        extra = options.get("flags") or []
        if not isinstance(extra, list) or not all(isinstance(flag, str) for flag in extra):
            raise ConfigError("'flags' must be a list of rclone command-line flags, such as [\"--bwlimit\", \"10M\"]")
        self.flags += extra
        folder = text_of(options[folder_key]) if options.get(folder_key) is not None else ""

        connection = [key for key in CONNECTION_KEYS if options.get(key)]
        if connection and options.get("remote"):
            raise ConfigError(f"give either 'remote:' or the connection keys ({', '.join(connection)}), not both")
        if connection:
            self.prefix, base = REMOTE_NAME + ":", self._configure(options, ftp_defaults or {})
            self.display_prefix = self.display
        elif options.get("remote"):
            self.prefix, base = split_remote(text_of(options["remote"]))
            self.display_prefix = self.prefix
        elif allow_bare_folder and folder:
            (self.prefix, folder), base = split_remote(folder), ""
            self.display_prefix = self.prefix
        else:
            raise ConfigError("say where: 'remote: \"name:\"' (an rclone remote), a local folder, or "
                              "'url: ftp://host:port/path/' (or type/host/port/username/password)")
        self.local = self.prefix == ""
        if self.local:
            self.folder = os.path.abspath(join(base, folder) or ".")
        else:
            self.folder = join(base, folder)
        # A folder given from the server's root ("sftp:/data") keeps paths absolute there.
        self.absolute = self.local or self.folder.startswith("/")

    def _configure(self, options, ftp_defaults):
        """The on-the-fly remote, as environment variables; returns its folder."""
        kind = text_of(options.get("type") or "").lower()
        host, port, user, folder = options.get("host"), options.get("port"), None, ""
        tls = text_of(options.get("tls") or "none").lower()
        if options.get("url"):
            url = text_of(options["url"])
            match = re.match(r"^(ftps?|sftp)://(?:([^@/]*)@)?(\[[^\]]*\]|[^/:]*)(?::(\d+))?(/.*)?$", url, re.I)
            if not match:
                raise ConfigError(f"'url' must be ftp://host[:port]/path/, ftps://… or sftp://…, not '{url}'")
            scheme, userinfo, url_host, url_port, url_path = match.groups()
            if userinfo and ":" in userinfo:
                raise ConfigError("put the password in 'password:' (masked in logs), not in the URL")
            kind = "sftp" if scheme.lower() == "sftp" else "ftp"
            if scheme.lower() == "ftps" and tls == "none":
                tls = "implicit"
            host, port = host or url_host.strip("[]"), port or url_port
            user = unquote(userinfo) if userinfo else None
            folder = unquote(url_path or "")
            folder = folder.lstrip("/")  # ftp://host/photos/ is relative to the login folder, as with curl
        if kind not in ("ftp", "sftp"):
            raise ConfigError(f"'type' must be ftp or sftp, not '{kind}' (for other backends, configure an "
                              "rclone remote and use 'remote: \"name:\"')")
        if not host:
            raise ConfigError("the connection needs a 'host'")
        user = text_of(options.get("username") or options.get("user") or user or ("anonymous" if kind == "ftp" else ""))
        password = options.get("password", options.get("pass"))
        settings = {"type": kind, "host": text_of(host)}
        if port:
            settings["port"] = text_of(port)
        if user:
            settings["user"] = user
        if password not in (None, ""):
            settings["pass"] = self._obscure(text_of(password))
        if kind == "ftp":
            if tls in ("explicit", "required"):
                settings["explicit_tls"] = "true"
            elif tls == "implicit":
                settings["tls"] = "true"
            elif tls not in ("none", "false", ""):
                raise ConfigError(f"'tls' must be none, explicit or implicit, not '{tls}'")
            if is_true(options.get("insecure", False)):
                settings["no_check_certificate"] = "true"
            # rclone's default less RightSpace: 1.60 lists "a.jpg " as it is but then asks for
            # "a.jpg␠". Names come out as curl-list reports them, tabs and trailing spaces included.
            settings["encoding"] = "Slash,Del,Ctl,Dot"
            settings.update(ftp_defaults)
        else:
            if options.get("ssh_key"):
                settings["key_file"] = os.path.abspath(text_of(options["ssh_key"]))
            if options.get("known_hosts"):
                settings["known_hosts_file"] = os.path.abspath(text_of(options["known_hosts"]))
        more = options.get("options") or {}
        if not isinstance(more, dict):
            raise ConfigError("'options' must be a mapping of rclone backend options, such as {disable_epsv: true}")
        settings.update({str(key).lower(): text_of(value) for key, value in more.items()})
        for key, value in settings.items():
            self.env[ENV_PREFIX + key.upper()] = value
        port_text = f":{settings['port']}" if "port" in settings else ""
        user_text = f"{user}@" if user else ""
        scheme = "sftp" if kind == "sftp" else ("ftps" if "tls" in settings else "ftp")
        self.display = f"{scheme}://{user_text}{settings['host']}{port_text}/"
        return folder

    def _obscure(self, password):
        if "\n" in password or "\r" in password:
            raise ConfigError("the password holds a line break, which rclone cannot take")
        SECRETS.append(password)
        # On stdin, never as an argument: `ps` shows arguments to every user.
        done = subprocess.run([self.rclone, "obscure", "-"], input=password + "\n", capture_output=True,
                              text=True, env=self.env)
        obscured = done.stdout.strip()
        if done.returncode != 0 or not obscured:
            raise ConfigError("rclone obscure failed: " + scrub(done.stderr.strip().splitlines()[-1:] or ["?"])[0])
        SECRETS.append(obscured)
        return obscured

    def at(self, path):
        """The rclone path of a path below the remote's root ("/photos/a.jpg")."""
        relative = path.lstrip("/")
        if self.local:
            return ":local:/" + relative
        return self.prefix + ("/" if self.absolute else "") + relative

    def explain(self, message):
        """rclone's words, with the on-the-fly remote's name replaced by its URL."""
        if self.prefix != REMOTE_NAME + ":":
            return message
        return re.sub(re.escape(self.prefix) + r"/?", lambda match: self.display, message)

    def shown(self, rclone_path):
        """An rclone path as the user knows it (the on-the-fly remote as its URL)."""
        if rclone_path.startswith(":local:"):
            return rclone_path[len(":local:"):]
        if self.prefix == REMOTE_NAME + ":" and rclone_path.startswith(self.prefix):
            return self.display + rclone_path[len(self.prefix):].lstrip("/")
        return rclone_path


def unquote(text):
    from urllib.parse import unquote as url_unquote
    return url_unquote(text)


NETWORK_TROUBLE = re.compile(r"dial tcp|connection refused|connection reset|broken pipe|i/o timeout|timed? ?out|"
                             r"unexpected EOF|no route to host|network is unreachable|\b42[156]\b|try again|"
                             r"too many (connections|users)", re.I)


def is_retryable(status, message, started=False, retry_error=False):
    """rclone's exit status 5 is "temporary"; 3 and 4 are "not found". rclone 1.60 wraps most transfer
    errors so that they come out as 1 whatever their kind: a dropped or refused connection is recognised
    by its words, and a transfer that began and that rclone itself calls retryable is retried too."""
    if status == 5:
        return True
    if status in (3, 4):
        return False
    return bool(NETWORK_TROUBLE.search(message)) or (started and retry_error)


class Rclone:
    """Runs rclone in this process group, forwards SIGTERM/SIGINT to it, and reads its JSON log."""

    def __init__(self):
        self.child = None
        self.stopping = False
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        signal.signal(signal.SIGALRM, self._kill)

    def _stop(self, signum, frame):
        self.stopping = True
        if self.child is None or self.child.poll() is not None:
            sys.exit(128 + signum)
        self.child.send_signal(signal.SIGTERM)
        signal.alarm(2)  # rclone stops within a second; if not, SIGKILL

    def _kill(self, signum, frame):
        if self.child is not None and self.child.poll() is None:
            self.child.kill()

    def run(self, remote, args, on_line=None, capture_stdout=False, quiet=False):
        """Runs `rclone ARGS`; returns (exit status, stdout text, last error message)."""
        command = [remote.rclone] + args + remote.flags
        self.child = subprocess.Popen(command, stdin=subprocess.DEVNULL, env=remote.env,
                                      stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True, errors="replace")
        last_error, output = "", []
        if capture_stdout:  # lsjson: stdout can be large; stderr is read by a thread meanwhile
            import threading
            errors = []
            reader = threading.Thread(target=lambda: errors.extend(self.child.stderr), daemon=True)
            reader.start()
            output.append(self.child.stdout.read())
            reader.join()
            lines = errors
        else:
            lines = self.child.stderr
        for line in lines:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line) if line.startswith("{") else None
            except ValueError:
                entry = None
            if entry is None:
                # A plain line: rclone's last words ("2024/01/02 03:04:05 Failed to copyto: …").
                words = re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\s+", "", line)
                if "Config file" in words and "not found" in words:
                    continue
                if words.startswith("* ") and last_error:
                    last_error += " " + words  # the next line of a multi-line error
                elif not words.startswith(("NOTICE", "INFO", "DEBUG")):
                    last_error = words
                if on_line is None and not quiet:
                    print(remote.explain(scrub(words)), file=sys.stderr, flush=True)
                continue
            if "Config file" in str(entry.get("msg")) and "not found" in str(entry.get("msg")):
                continue  # no rclone.conf: normal with url:/type: keys
            if on_line is not None:
                on_line(entry)
            if entry.get("level") == "error" and not entry.get("stats"):
                last_error = " ".join(str(entry.get("msg", "")).split())
        status = self.child.wait()
        signal.alarm(0)
        if self.stopping:
            sys.exit(143)
        return status, "".join(output), remote.explain(scrub(last_error))


SOURCE_CONNECTION_KEYS = ("remote", "url", "type", "host", "port", "username", "user", "password", "pass", "tls",
                          "insecure", "ca_file", "ssh_key", "known_hosts", "options", "config")


def with_source_defaults(options, request):
    """A fetch given no place of its own reads where the source lists (the request's source_with),
    so swapping curl-fetch for rclone-fetch is one line in the pipeline file."""
    if any(options.get(key) for key in ("remote",) + CONNECTION_KEYS):
        return options
    source = request.get("source_with") or {}
    merged = {key: source[key] for key in SOURCE_CONNECTION_KEYS if key in source}
    merged.update(options)
    return merged


def load_request():
    try:
        request = json.load(sys.stdin)
    except ValueError:
        fail("the request on stdin is not JSON")
    if not isinstance(request, dict):
        fail("the request on stdin is not a JSON object")
    options = request.get("with") or {}
    if not isinstance(options, dict):
        fail("'with' must be a mapping")
    return request, options

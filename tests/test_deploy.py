"""The deployment of docs/deploy.md on real parts: Debian's Caddy serving `python -m atlas serve` over HTTPS
with deploy/Caddyfile (its own internal certificates, the system's trust store untouched), driven in Chromium
through the proxy, websocket included, with sign-in through the local OpenID Connect provider the sign-in tests
use; the headers, the policy the dashboard works under, and the redirect from HTTP; and the systemd units of
deploy/render.py, rendered with this checkout's paths and checked by `systemd-analyze verify`.

Caddy and systemd-analyze come from Debian's packages (caddy, systemd), which .ci/run installs: a machine
without them fails here rather than skipping.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import http.client
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser import MAP_DRAWN, chromium, free_port, served, wait_drawn
from playwright.sync_api import expect
from test_signin import NAV, ROLES, loopback_only, nav, provider, settle, signed_in_as, title_of

ROOT = Path(__file__).resolve().parent.parent
CADDYFILE = ROOT / "deploy" / "Caddyfile"
RENDER = ROOT / "deploy" / "render.py"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is needed (Debian's package; .ci/run installs it): apt-get install -y "
                    + {"caddy": "caddy", "systemd-analyze": "systemd"}[name])
    return found


# ---- the systemd units -------------------------------------------------------------------------------

def render(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RENDER), "--out", str(out), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_the_units_rendered_with_this_checkouts_paths_pass_systemd_analyze_verify(tmp_path):
    analyze = tool("systemd-analyze")
    env_file = tmp_path / "etc" / "atlas.env"
    done = render(tmp_path / "units", "--user", getpass.getuser(), "--env-file", str(env_file),
                  "--data", str(tmp_path / "data"))
    assert done.returncode == 0, done.stderr
    units = tmp_path / "units"
    names = sorted(p.name for p in units.iterdir() if p.is_file())
    assert names == ["atlas-backup.service", "atlas-backup.timer", "atlas-deliver.service", "atlas-deliver.timer",
                     "atlas-refresh.service", "atlas-refresh.timer", "atlas.env.example", "atlas.service"]
    texts = {p.name: p.read_text() for p in [*units.iterdir(), units / "caddy.service.d" / "atlas.conf"]
             if p.is_file()}
    assert not [n for n, t in texts.items() if re.search(r"@[A-Z_]+@", t)], "every placeholder is filled"
    python = str(Path(sys.executable).absolute())

    def setting(unit: str, key: str) -> list[str]:
        return re.findall(rf"^{key}=(.*)$", texts[unit], flags=re.MULTILINE)

    # each unit runs this checkout's commands, with this Python, as the account and settings given
    assert setting("atlas.service", "ExecStart") == [
        f"{python} -m atlas serve --port ${{ATLAS_PORT}} --address 127.0.0.1"]
    assert setting("atlas-refresh.service", "ExecStart") == [f"{python} -m atlas refresh ${{ATLAS_INBOX}}"]
    assert setting("atlas-deliver.service", "ExecStart") == [f"{python} -m atlas deliver"]
    assert "-m atlas backup " in setting("atlas-backup.service", "ExecStart")[0]
    for unit in ("atlas.service", "atlas-refresh.service", "atlas-deliver.service", "atlas-backup.service"):
        assert setting(unit, "WorkingDirectory") == [str(ROOT)]
        assert setting(unit, "EnvironmentFile") == [str(env_file)]
        assert setting(unit, "User") == [getpass.getuser()]
    # how often each job runs, as docs/deploy.md says
    assert setting("atlas-refresh.timer", "OnCalendar") == ["*-*-* 02:30:00"]
    assert setting("atlas-backup.timer", "OnCalendar") == ["*-*-* 03:30:00"]
    assert setting("atlas-deliver.timer", "OnCalendar") == ["*-*-* 07:00:00"]
    assert setting("atlas.conf", "ExecStart") == ["", f"/usr/bin/caddy run --environ --config {CADDYFILE}"]
    assert f"ATLAS_DB={tmp_path / 'data'}/atlas.duckdb" in texts["atlas.env.example"]

    checked = subprocess.run([analyze, "verify", "--man=no", *sorted(str(units / n) for n in names
                                                                     if not n.endswith(".example"))],
                             capture_output=True, text=True, timeout=120)
    ours = [line for line in (checked.stdout + checked.stderr).splitlines() if str(units) in line or "atlas" in line]
    assert checked.returncode == 0 and not ours, checked.stdout + checked.stderr

    # a broken unit fails the same check, so the check above can fail
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "atlas.service").write_text(texts["atlas.service"].replace(f"ExecStart={python}",
                                                                        "ExecStart=no-such-program"))
    failed = subprocess.run([analyze, "verify", "--man=no", str(broken / "atlas.service")],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0 or "atlas.service" in failed.stderr


def test_render_refuses_a_path_a_unit_cannot_hold(tmp_path):
    done = render(tmp_path / "units", "--data", str(tmp_path / "my data"))
    assert done.returncode == 2 and "without spaces" in done.stderr
    done = render(tmp_path / "units", "--env-file", "relative/atlas.env")
    assert done.returncode == 2 and "absolute path" in done.stderr
    assert not (tmp_path / "units").exists() or not any((tmp_path / "units").iterdir())


# ---- Caddy in front of the dashboard ---------------------------------------------------------------------

@dataclass
class Proxied:
    https: str  # https://localhost:PORT
    http_port: int
    https_port: int
    root_cert: Path  # Caddy's own authority
    chain_keys: list[str]  # the SPKI hashes of its authority's certificates, for Chromium
    log: Path


def spki_hash(pem: Path) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(pem.read_bytes()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@contextmanager
def caddy(https_port: int, http_port: int, app_port: int, home: Path, log: Path):
    """`caddy run --config deploy/Caddyfile` with the settings of docs/deploy.md's test drive, its state (and its
    authority) kept under `home`; yields the authority's folder once HTTPS answers."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
           "ATLAS_HOST": f"localhost:{https_port}", "ATLAS_PORT": str(app_port), "ATLAS_HTTP_PORT": str(http_port),
           "ATLAS_CADDY_ADMIN": f"localhost:{free_port()}"}
    authority = home / "data" / "caddy" / "pki" / "authorities" / "local"
    with open(log, "wb") as out:
        proc = subprocess.Popen([tool("caddy"), "run", "--config", str(CADDYFILE)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    context = ssl.create_default_context(cafile=str(authority / "root.crt"))
                    with urllib.request.urlopen(f"https://localhost:{https_port}/_stcore/health", timeout=5,
                                                context=context) as answer:
                        if answer.read() == b"ok":
                            break
                except (OSError, ssl.SSLError):
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"caddy did not serve the dashboard; see {log}:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
            yield authority
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def proxied(demo_db, tmp_path_factory):
    """The dashboard with sign-in configured, served by `python -m atlas serve` on loopback, behind Caddy."""
    root = tmp_path_factory.mktemp("deploy")
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    https = f"https://localhost:{https_port}"
    with provider() as issuer:
        secrets_file = root / "secrets.toml"
        secrets_file.write_text(f"""
[auth]
redirect_uri = "{https}/oauth2callback"
cookie_secret = "{base64.b64encode(os.urandom(32)).decode()}"
client_id = "collaboration-atlas"
client_secret = "{base64.b64encode(os.urandom(16)).decode()}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
{ROLES}
""")
        with served(demo_db, root / "streamlit.log", env={"ATLAS_SECRETS": str(secrets_file)}, port=app_port):
            with caddy(https_port, http_port, app_port, root / "caddy", root / "caddy.log") as authority:
                keys = [spki_hash(authority / name) for name in ("root.crt", "intermediate.crt")
                        if (authority / name).exists()]
                yield Proxied(https, http_port, https_port, authority / "root.crt", keys, root / "caddy.log")


def fetch(url: str, cafile: Path, headers: dict | None = None):
    """The response to a GET over HTTPS, verified against `cafile` only; an error status is returned too."""
    context = ssl.create_default_context(cafile=str(cafile))
    request = urllib.request.Request(url, headers=headers or {})
    try:
        return urllib.request.urlopen(request, timeout=30, context=context)
    except urllib.error.HTTPError as error:
        return error


def test_plain_http_is_sent_to_https_keeping_the_path(proxied):
    connection = http.client.HTTPConnection("localhost", proxied.http_port, timeout=30)
    connection.request("GET", "/network?x=1")
    answer = connection.getresponse()
    assert answer.status in (301, 308), answer.status  # permanent
    assert answer.getheader("Location") == f"{proxied.https}/network?x=1"
    connection.close()


def test_https_carries_the_security_headers_with_caddys_own_certificate(proxied):
    with fetch(proxied.https + "/", proxied.root_cert) as answer:
        assert answer.status == 200
        headers = answer.headers
        assert "<div id=\"root\">" in answer.read().decode()
    assert re.fullmatch(r"max-age=(\d+).*", headers["Strict-Transport-Security"])
    assert int(re.match(r"max-age=(\d+)", headers["Strict-Transport-Security"]).group(1)) >= 31536000
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    policy = {d.split()[0]: d.split()[1:] for d in headers["Content-Security-Policy"].split(";") if d.strip()}
    assert policy["frame-ancestors"] == ["'none'"] and policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert "'unsafe-eval'" not in policy["script-src"] and "'unsafe-inline'" not in policy["script-src"]
    assert not [s for values in policy.values() for s in values if s.startswith(("http:", "https:", "*"))]
    assert "Server" not in headers
    # the page's other responses carry them too: a script, the health check, an error
    for path in ("/_stcore/health", "/no-such-page"):
        with fetch(proxied.https + path, proxied.root_cert) as answer:
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]


def test_the_certificate_is_caddys_own_and_the_systems_trust_store_is_untouched(proxied):
    with pytest.raises(urllib.error.URLError) as refused:  # the system does not trust Caddy's authority
        urllib.request.urlopen(proxied.https + "/_stcore/health", timeout=30, context=ssl.create_default_context())
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    root = proxied.root_cert.read_text().strip()
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    assert not bundle.exists() or root not in bundle.read_text()
    local = Path("/usr/local/share/ca-certificates")
    assert not local.exists() or not [p for p in local.rglob("*") if p.is_file() and p.read_text(errors="ignore").strip() == root]
    assert "skip_install_trust" in CADDYFILE.read_text()


def test_a_request_from_another_origin_is_refused_at_the_proxy(proxied):
    with fetch(proxied.https + "/_stcore/health", proxied.root_cert, {"Origin": "https://evil.example"}) as answer:
        assert answer.status == 403
    with fetch(proxied.https + "/_stcore/health", proxied.root_cert, {"Origin": proxied.https}) as answer:
        assert answer.status == 200 and answer.read() == b"ok"


@pytest.fixture(scope="module")
def tls_browser(proxied):
    """Chromium told to ignore certificate errors for Caddy's authority only (by its keys' hashes)."""
    with chromium(("--ignore-certificate-errors-spki-list=" + ",".join(proxied.chain_keys),)) as instance:
        yield instance


# Every refusal of the page's content security policy, wherever in the page it happens.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI), true);
"""


def test_a_director_signs_in_over_https_and_every_page_works_under_the_policy(proxied, tls_browser):
    context = tls_browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", loopback_only)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    problems, sockets = [], []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("websocket", lambda ws: sockets.append(ws.url))

    answer = page.goto(proxied.https + "/")
    assert answer.status == 200 and "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize|/authorize"), timeout=30_000)
    page.locator('button[name="sub"][value="dana@example.org"]').click()
    page.wait_for_url(re.compile(re.escape(proxied.https) + r"/?(\?.*)?$"), timeout=30_000)
    settle(page)
    assert nav(page) == NAV
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(signed_in_as("dana@example.org", "director"))
    # the page speaks to the server through the proxy's websocket
    assert any(url.startswith(f"wss://localhost:{proxied.https_port}/_stcore/stream") for url in sockets), sockets

    for path, title in (("/network", "Network map"), ("/outcomes", "Outcomes"), ("/data", "Data"),
                        ("/bottlenecks", "Bottlenecks")):
        page.goto(proxied.https + path)
        settle(page)
        assert title_of(page) == title
        if path == "/network":  # the map component's module, loaded from a blob: URL, runs under the policy
            page.wait_for_function(MAP_DRAWN, timeout=60_000)
        wait_drawn(page)
        violations = page.evaluate("window.__violations")
        assert not violations and not problems, (path, violations, problems)
    context.close()


def test_the_websocket_refuses_a_page_of_another_origin(proxied, tls_browser):
    """What a hostile page would try: open the dashboard's websocket from its own origin."""
    context = tls_browser.new_context()
    page = context.new_page()
    page.route("https://evil.example/", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                      body="<title>evil</title>"))
    page.goto("https://evil.example/")
    outcome = page.evaluate("""url => new Promise(done => {
        const ws = new WebSocket(url);
        ws.onopen = () => done('open');
        ws.onerror = () => done('refused');
        setTimeout(() => done('timeout'), 15000);
    })""", f"wss://localhost:{proxied.https_port}/_stcore/stream")
    assert outcome == "refused"
    context.close()

"""Browser tests: the real app served over HTTP, driven by Playwright in Debian's Chromium.

One server per session (the app built by ``create_app`` on a temp SQLite database with the demo
users and campaigns, served by werkzeug in a thread on 127.0.0.1:<free port>) and one
Chromium. Every page a test visits goes through :class:`Visit`, which runs axe-core on it and
fails on any "serious" or "critical" violation, and which fails on Content-Security-Policy
violations and script errors reported by the browser.

The tests skip (with the reason) only when Chromium or the ``playwright`` package is missing;
``bin/test`` installs both.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import Actor, EngineConfig, FixedClock, WorkflowEngine, roles
from webapp import create_app, demo
from webapp.schema_forms.schema import option_value  # how the server writes a value in HTML
from webapp.services import build

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VIEWER = ROOT / "webapp" / "static" / "build" / "viewer.js"
NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: axe impacts that fail a test
BLOCKING = {"serious", "critical"}


def chromium_path() -> str | None:
    wanted = os.environ.get("DSDT_CHROMIUM")
    for candidate in (wanted, "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    reason = None
    if chromium_path() is None:
        reason = "Chromium not found (/usr/bin/chromium): bin/test installs it with apt-get (as root)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is missing: pip install -e '.[test]' (bin/setup does)"
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


# -- the application ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_services(tmp_path_factory):
    """The engine (FixedClock, temp SQLite) with the models deployed, the campaigns and the demo users."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'dsdt.sqlite'}"
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(NOW))
    services = build({}, engine)
    # What `dsdt run` sets up, less most demo applications (the tests make their own): the models,
    # the campaigns and one account per role.
    engine.deploy_directory(ROOT, author="browser-tests")
    code = demo.ensure_campaigns(engine, NOW.date())
    for login, name, held, scope in demo.demo_users(engine):
        services.accounts.create(
            login, demo.DEMO_PASSWORD, roles=held, epci=scope, full_name=name, email=f"{login}@demo.dsdt.example"
        )
    # A few other applications waiting for the CAB technicians, so that the inbox is not a list of one.
    driver = demo.DemoDriver(services)
    for porteur, stop_at in (("porteur3", "avis_commune"), ("porteur4", "avis_commune"), ("porteur3", "fiche")):
        instance_id = engine.start(Actor(porteur, frozenset({roles.PORTEUR})), code)
        driver.advance(instance_id, porteur, stop_at, {"contact": {"epci": "CAB"}})
    yield services
    engine.close()


@pytest.fixture(scope="session")
def live_server(live_services, tmp_path_factory):
    """The base URL of the app served over HTTP in a thread."""
    from werkzeug.serving import make_server

    app = create_app(
        {
            "SECRET_KEY": "browser-tests",
            "DSDT_ENGINE": live_services.engine,
            "DSDT_DATABASE_URL": live_services.engine.db.url,
        }
    )
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dsdt-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run bin/setup (npm ci)")
    if not VIEWER.exists():
        pytest.fail(f"{VIEWER} is missing: run bin/setup (npm run build)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def open_visit(browser, live_server, axe_source, artifacts):
    """Opens a :class:`Visit` in a fresh browser context (``javascript=False``: the app's scripts are not
    served, as for a browser without JavaScript; axe-core still runs, through the DevTools protocol)."""
    opened = []

    def open_(javascript: bool = True) -> Visit:
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        if not javascript:
            context.route("**/*.js", lambda route: route.abort())
        session = Visit(context.new_page(), live_server, axe_source, artifacts)
        opened.append((context, session))
        return session

    yield open_
    for context, session in opened:
        context.close()
        session.assert_clean()


@pytest.fixture
def visit(open_visit):
    return open_visit()


# -- one person's browsing ----------------------------------------------------------------------------


class Visit:
    """A browser tab on the app. Every page reached through it is audited by axe-core."""

    def __init__(self, page, base_url: str, axe_source: str, artifacts: Path):
        self.page = page
        self.base_url = base_url
        self.axe_source = axe_source
        self.artifacts = artifacts
        self.audited: list[str] = []
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error on {page.url}: {error}"))
        page.on("response", self._response)

    def _console(self, message) -> None:
        # CSP violations and script errors are reported here; failed loads are judged in _response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def _response(self, response) -> None:
        # A page answered 400 or 409 is a test's business (form errors, stale task); a missing
        # stylesheet, script or JSON is not.
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} for {response.url} (from {self.page.url})")

    # -- navigation: each one ends with an audit ---------------------------------------------------
    def goto(self, path: str) -> None:
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 500, f"{path}: HTTP {response and response.status}"
        self.audit()

    def submit(self, button) -> None:
        """Click a submit button (a Locator) and audit the page it leads to."""
        with self.page.expect_navigation():
            button.click()
        self.audit()

    def click_link(self, link) -> None:
        with self.page.expect_navigation():
            link.click()
        self.audit()

    def audit(self) -> None:
        """axe-core on the current page; fails on any serious or critical violation."""
        page = self.page
        page.wait_for_load_state("load")
        if page.evaluate("typeof window.axe") == "undefined":
            # Evaluated through the DevTools protocol: not subject to the page's CSP (no inline script allowed).
            page.evaluate(self.axe_source + "\n;undefined")
        violations = page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ["violations"]});
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
                }));
            }"""
        )
        self.audited.append(page.url)
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        assert not blocking, f"axe-core on {page.url}:\n" + json.dumps(blocking, indent=2, ensure_ascii=False)

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    # -- people ---------------------------------------------------------------------------------------
    def login(self, login: str, password: str = demo.DEMO_PASSWORD) -> None:
        self.goto("/connexion")
        self.page.fill("#login", login)
        self.page.fill("#password", password)
        self.submit(self.page.locator("main button[type=submit]"))
        # The login form shows the typed login again when it refuses it: only the header's account says who is in.
        assert self.page.locator(".who").count() == 1, f"{login} could not log in"

    def logout(self) -> None:
        self.submit(self.page.get_by_role("button", name="Se déconnecter"))

    def as_user(self, login: str):
        """Context manager: logged in as ``login`` for the block, logged out after."""
        visit = self

        class _As:
            def __enter__(self):
                visit.login(login)
                return visit

            def __exit__(self, *exc):
                if exc[0] is None:
                    visit.logout()

        return _As()

    # -- forms ------------------------------------------------------------------------------------------
    def fill_form(self, data: dict, attachment: Path) -> None:
        """Type ``data`` (a form's JSON value) into the rendered task form, as a person would."""
        for name, value in flatten(data, "f"):
            self._fill(name, value, attachment)

    def _fill(self, name: str, value, attachment: Path) -> None:
        page = self.page
        form = page.locator("form.task-form")
        controls = form.locator(f'[name="{name}"]:not([type=hidden])')
        count = controls.count()
        if count == 0:
            return  # not a field of this form (a read-only or computed value)
        first = controls.first
        tag = first.evaluate("el => el.tagName.toLowerCase()")
        kind = (first.get_attribute("type") or "").lower()
        if first.is_disabled() or first.get_attribute("readonly") is not None:
            return
        if kind == "radio":
            form.locator(f'input[type=radio][name="{name}"][value="{option_value(value)}"]').check()
        elif kind == "checkbox" and isinstance(value, bool):
            form.locator(f'input[type=checkbox][name="{name}"]').set_checked(value)
        elif kind == "checkbox":
            for item in value if isinstance(value, list) else [value]:
                form.locator(f'input[type=checkbox][name="{name}"][value="{option_value(item)}"]').check()
        elif kind == "file":
            first.set_input_files(str(attachment))
        elif tag == "select":
            first.select_option(value=option_value(value))
        else:
            first.fill(option_value(value))




def _is_rows(value) -> bool:
    """A list of rows: objects (budget lines, partners…) or attachments (``sha256:…`` references)."""
    return (
        isinstance(value, list)
        and bool(value)
        and (
            all(isinstance(v, dict) for v in value)
            or all(isinstance(v, str) and v.startswith("sha256:") for v in value)
        )
    )


def flatten(value, prefix: str):
    """(control name, leaf value) pairs: ``f.budget.0.montant``. Lists of choices stay whole."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from flatten(sub, f"{prefix}.{key}")
    elif _is_rows(value):
        for index, sub in enumerate(value):
            yield from flatten(sub, f"{prefix}.{index}")
    else:
        yield prefix, value


def one_row_each(value):
    """The same data with every list of rows cut to its first row (a fresh form shows one empty row)."""
    if isinstance(value, dict):
        return {k: one_row_each(v) for k, v in value.items()}
    if _is_rows(value):
        return [one_row_each(value[0])]
    return value

"""The dashboard's browser test: drives the page served by a running daemon
in Chromium (Playwright, sync API) the way a person would, and checks what
issue 22 promises. Run by tests/dashboard.rs, which starts the daemon and
passes:

  DASHBOARD_URL     the one-time login URL `agentgate dashboard` printed
  AGENTGATE_BIN     the agentgate binary (the CLI submits and reads state)
  AGENTGATE_ROOT, AGENTGATE_SOCKET   the daemon the CLI talks to
  SHOT_DIR          where the screenshots go

Every check waits with Playwright's expect/wait_for (no fixed sleeps). Any
miss prints `DASHBOARD-FAIL <step>: <why>` (plus failure.png in SHOT_DIR)
and exits 1; success prints one line `DASHBOARD-RESULT {json}` and exits 0.

Console errors and page errors fail the test, from the first moment. The one
kind tolerated is Chromium's own network log line ("Failed to load resource:
the server responded with a status of N") for the refusals the test provokes
on purpose (ALLOWED_HTTP_ERRORS): the browser logs every 4xx a fetch gets,
and the spec demands those answers (401 without a session, 409 for a refused
action). They are counted in the result.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from urllib.parse import urlsplit

from playwright.sync_api import expect, sync_playwright

LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WIDE = {"width": 1440, "height": 900}
NARROW = {"width": 390, "height": 844}
TIMEOUT_MS = 20_000

# (status, path suffix) of the refusals this test provokes on purpose.
ALLOWED_HTTP_ERRORS = [
    (401, "/dashboard/login"),  # the login link used a second time
    (409, "/merge"),  # merge of a work order without a worktree
    (409, "/cancel"),  # cancel of a work order that already ended
]
NETWORK_LOG = re.compile(r"^Failed to load resource: the server responded with a status of (\d+)")

# The shell prompt whose transcript must grow live: two lines, then it waits
# (at most 60 s) for the test to create `go` in its workspace once the page
# shows line-1 and not line-5, then three more lines.
LINES_PROMPT = (
    "for i in 1 2; do echo line-$i; sleep 0.4; done; "
    "n=0; while [ ! -e go ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done; "
    "for i in 3 4 5; do echo line-$i; sleep 0.4; done"
)
XSS_PROMPT = "echo '<img src=x onerror=alert(1)>'"


class Failure(Exception):
    pass


def env(name):
    value = os.environ.get(name)
    if not value:
        raise Failure(f"environment variable {name} is not set")
    return value


class Drive:
    def __init__(self):
        self.url = env("DASHBOARD_URL")
        parts = urlsplit(self.url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.token = parts.fragment.removeprefix("login=")
        self.bin = env("AGENTGATE_BIN")
        env("AGENTGATE_ROOT")
        env("AGENTGATE_SOCKET")
        self.shots = env("SHOT_DIR")
        os.makedirs(self.shots, exist_ok=True)
        self.workspace = tempfile.mkdtemp(prefix="agentgate-dashboard-")
        self.errors = []  # console errors and page errors (each fails the test)
        self.expected_http = []  # tolerated network log lines
        self.dialogs = []  # any dialog (alert...) fails the test
        self.checks = []
        self.page = None  # the page a failure screenshot is taken of
        self.started = time.monotonic()
        self.summary = {}

    # ---- plumbing ------------------------------------------------------

    @contextmanager
    def step(self, name):
        t0 = time.monotonic()
        print(f"dashboard: {name} ...", file=sys.stderr, flush=True)
        try:
            yield
        except Exception as e:  # noqa: BLE001 - every miss is reported the same way
            raise Failure(f"{name}: {e}") from e
        self.checks.append(name)
        print(f"dashboard: {name} ok ({time.monotonic() - t0:.1f}s)", file=sys.stderr, flush=True)

    def watch(self, page, label):
        """Collects console errors, page errors and dialogs of `page` from its first moment."""

        def on_console(msg):
            if msg.type != "error":
                return
            m = NETWORK_LOG.match(msg.text)
            url = (msg.location or {}).get("url", "")
            path = urlsplit(url).path
            if m and any(int(m.group(1)) == st and path.endswith(suffix) for st, suffix in ALLOWED_HTTP_ERRORS):
                self.expected_http.append(f"{m.group(1)} {path}")
                return
            self.errors.append(f"[{label}] console error: {msg.text} ({url})")

        def on_dialog(dialog):
            self.dialogs.append(f"[{label}] {dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda err: self.errors.append(f"[{label}] page error: {err}"))
        page.on("dialog", on_dialog)
        page.set_default_timeout(TIMEOUT_MS)
        return page

    def cli(self, *args):
        out = subprocess.run([self.bin, *args], capture_output=True, text=True, timeout=60, env=os.environ)
        if out.returncode != 0:
            raise Failure(f"`agentgate {' '.join(args)}` exited {out.returncode}: {out.stderr.strip()}")
        return out.stdout.strip()

    def cli_status(self, wo_id):
        return json.loads(self.cli("queue", "show", wo_id, "--json"))["status"]

    def shot(self, page, name):
        path = os.path.join(self.shots, name)
        page.screenshot(path=path, full_page=False)
        self.summary.setdefault("screenshots", []).append(name)

    def failure_shot(self):
        """What the page showed when a check missed, for whoever reads the failure."""
        try:
            if self.page and not self.page.is_closed():
                self.page.screenshot(path=os.path.join(self.shots, "failure.png"))
                print(f"dashboard: the page at the failure: {self.page.url}, failure.png", file=sys.stderr)
        except Exception:  # noqa: BLE001 - the failure itself is what matters
            pass

    def no_horizontal_scroll(self, page, what):
        sizes = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if sizes[0] > sizes[1] + 1:
            raise Failure(f"{what} scrolls sideways at {sizes[1]} px wide (content {sizes[0]} px)")

    def search_finds(self, page, words, wo_id):
        """The search keeps `wo_id` and only rows whose prompt holds `words`."""
        page.get_by_label("Search").fill(words)
        expect(page.locator(f'tr[data-id="{wo_id}"]')).to_be_visible()
        expect(page.locator("tbody tr .prompt-text").filter(has_not_text=words)).to_have_count(0)
        page.get_by_label("Search").fill("")

    def api(self, ctx, method, path, body=None):
        """A request with the page's session (cookie + CSRF), as the page makes it: the API's own answer."""
        csrf = ctx.request.get(f"{self.base}/dashboard/session").json()["csrf"]
        resp = ctx.request.fetch(f"{self.base}{path}", method=method, headers={
            "X-CSRF-Token": csrf, "Content-Type": "application/json",
        }, data=json.dumps(body) if body is not None else None)
        return resp.status, resp.json()

    # ---- the test ------------------------------------------------------

    def run(self, p):
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS)
        expect.set_options(timeout=TIMEOUT_MS)
        try:
            self.logged_out_page(browser)
            ctx, page = self.login(browser)
            self.login_link_is_one_time(browser)
            form_id = self.submit_from_form(ctx, page)
            self.transcript_grows_live(page, form_id)
            self.refused_actions(ctx, page, form_id)
            cancel_id = self.cancel_from_page(page)
            xss_id = self.untrusted_text(page)
            self.keyboard(page)
            self.health(page)
            self.screenshots(page, form_id)
            self.dark(browser)
            self.logout(ctx, page)
            self.summary["workOrders"] = {"form": form_id, "canceled": cancel_id, "xss": xss_id}
        except Exception:
            self.failure_shot()
            raise
        finally:
            browser.close()
        if self.dialogs:
            raise Failure(f"dialogs were opened (untrusted text ran as code?): {self.dialogs}")
        if self.errors:
            raise Failure("console or page errors:\n  " + "\n  ".join(self.errors))

    def logged_out_page(self, browser):
        with self.step("/ without a session shows how to log in"):
            ctx = browser.new_context(viewport=WIDE)
            page = self.watch(ctx.new_page(), "logged-out")
            self.page = page
            resp = page.goto(f"{self.base}/")
            csp = resp.headers.get("content-security-policy", "")
            for part in ("default-src 'self'", "script-src 'self'"):
                if part not in csp:
                    raise Failure(f"GET / sends no `{part}` in its Content-Security-Policy: {csp!r}")
            expect(page.locator("pre.cmd")).to_have_text("agentgate dashboard")
            expect(page.get_by_label("API key")).to_be_visible()
            expect(page.locator("#top")).to_be_hidden()
            ctx.close()

    def login(self, browser):
        with self.step("the login link logs in and leaves the URL"):
            ctx = browser.new_context(viewport=WIDE)
            page = self.watch(ctx.new_page(), "main")
            self.page = page
            page.goto(self.url)
            expect(page.get_by_role("heading", name="Queue")).to_be_visible()
            expect(page.locator("#top")).to_be_visible()
            if "login=" in page.url or self.token in page.url:
                raise Failure(f"the token is still in the URL: {page.url}")
            if page.evaluate("history.length") > 1 and self.token in page.evaluate("location.href"):
                raise Failure("the token is in the history")
            cookies = ctx.cookies()
            if not cookies:
                raise Failure(f"no session cookie was set: {ctx.cookies()}")
            for c in cookies:
                if not c["httpOnly"] or c["sameSite"] != "Strict":
                    raise Failure(f"the session cookie is not HttpOnly and SameSite=Strict: {c}")
            expect(page.locator("#live")).to_have_text("● live")
            # What a first visit downloads, uncompressed (the spec allows 250 KB).
            size = page.evaluate("""() => performance.getEntriesByType('navigation')
                .concat(performance.getEntriesByType('resource'))
                .filter((e) => new URL(e.name).origin === location.origin
                    && (new URL(e.name).pathname === '/' || new URL(e.name).pathname.startsWith('/assets/')))
                .reduce((n, e) => n + e.decodedBodySize, 0)""")
            if size > 250 * 1024:
                raise Failure(f"the first load is {size} bytes, over 250 KB")
            self.summary["firstLoadBytes"] = size
            return ctx, page

    def login_link_is_one_time(self, browser):
        with self.step("the login link works only once"):
            ctx = browser.new_context(viewport=WIDE)
            page = self.watch(ctx.new_page(), "second-login")
            self.page = page
            page.goto(self.url)
            error = page.locator("#login-error")
            expect(error).to_be_visible()
            expect(error).not_to_be_empty()
            expect(page.locator("#top")).to_be_hidden()
            if self.token in page.url:
                raise Failure(f"the refused token is still in the URL: {page.url}")
            self.summary["secondLoginMessage"] = error.inner_text()
            ctx.close()

    def submit_from_form(self, ctx, page):
        with self.step("a work order submitted from the form appears in the queue live"):
            # The queue stays open in `page` (never reloaded); the form is in another tab.
            form = self.watch(ctx.new_page(), "form")
            self.page = form
            form.goto(f"{self.base}/#/submit")
            form.get_by_label("Prompt").fill(LINES_PROMPT)
            form.get_by_label("Agent type").fill("shell")
            form.get_by_label("Workspace").fill(self.workspace)
            form.get_by_label("Labels").fill("dashboard-test")
            form.get_by_label("Priority").fill("1")
            form.get_by_role("button", name="Submit", exact=True).click()
            created = form.locator(".action-msg a")
            expect(created).to_be_visible()
            wo_id = created.inner_text().strip()
            self.page = page
            row = page.locator(f'tr[data-id="{wo_id}"]')
            expect(row).to_be_visible()
            expect(row).to_contain_text("dashboard-test")
            expect(row).to_contain_text("shell")
            # A deep link opens the work order in a fresh tab.
            form.goto(f"{self.base}/#/work-orders/{wo_id}")
            expect(form.locator("#wo-title")).to_contain_text(wo_id)
            form.close()
            return wo_id

    def transcript_grows_live(self, page, wo_id):
        with self.step("its transcript grows live until it succeeds"):
            page.locator(f'tr[data-id="{wo_id}"] a').first.click()
            expect(page.locator("#wo-title")).to_contain_text(wo_id)
            if f"#/work-orders/{wo_id}" not in page.url:
                raise Failure(f"the URL does not name the work order: {page.url}")
            tx = page.locator(".transcript")
            expect(tx).to_contain_text("line-2")
            expect(page.locator(".wo-status")).to_contain_text("running")
            early = tx.inner_text()
            if "line-5" in early:
                raise Failure(f"line-5 was shown before the run printed it ({early!r})")
            # Let the run go on: the rest must arrive on the open page.
            open(os.path.join(self.workspace, "go"), "w").close()
            expect(tx).to_contain_text("line-5")
            expect(page.locator(".wo-status")).to_contain_text("succeeded")
            if self.cli_status(wo_id) != "succeeded":
                raise Failure("the CLI does not say succeeded")

    def refused_actions(self, ctx, page, wo_id):
        with self.step("a refused action shows the API's message"):
            # The API's own answers, asked with the page's session.
            for action, hint in (("merge", "worktree"), ("cancel", "succeeded")):
                status, body = self.api(ctx, "POST", f"/api/v1/work-orders/{wo_id}/{action}", {})
                if status != 409 or body.get("success") is not False:
                    raise Failure(f"POST .../{action} of a succeeded work order without a worktree answered {status}: {body}")
                message = body["error"]["message"]
                if hint not in message:
                    raise Failure(f"unexpected refusal of {action}: {message!r}")
                page.get_by_role("button", name=action.capitalize(), exact=True).click()
                shown = page.locator("#action-msg .error")
                expect(shown).to_contain_text(message)
            self.summary["refusal"] = message

    def cancel_from_page(self, page):
        with self.step("a work order submitted by the CLI appears live and is canceled from its page"):
            page.get_by_role("link", name="Queue", exact=True).click()
            expect(page.get_by_role("heading", name="Queue")).to_be_visible()
            wo_id = self.cli("submit", "--agent", "shell", "--path", self.workspace, "--label", "dashboard-cancel", "sleep 300")
            row = page.locator(f'tr[data-id="{wo_id}"]')
            expect(row).to_contain_text("running")
            # The status filter keeps only running ones; the search finds by prompt.
            page.get_by_label("Status").select_option("running")
            expect(row).to_be_visible()
            expect(page.locator("tbody tr:not(.st-row-running)")).to_have_count(0)
            page.get_by_label("Status").select_option("")
            self.search_finds(page, "sleep 300", wo_id)
            row.locator("a").first.click()
            expect(page.locator("#wo-title")).to_contain_text(wo_id)
            expect(page.locator(".wo-status")).to_contain_text("running")
            page.get_by_role("button", name="Cancel", exact=True).click()
            expect(page.locator(".wo-status")).to_contain_text("canceled")
            expect(page.locator("#action-msg .ok")).to_be_visible()
            status = self.cli_status(wo_id)
            if status != "canceled":
                raise Failure(f"`queue show {wo_id} --json` says {status}, not canceled")
            return wo_id

    def untrusted_text(self, page):
        with self.step("a prompt with markup shows as text"):
            page.get_by_role("link", name="Queue", exact=True).click()
            wo_id = self.cli("submit", "--agent", "shell", "--path", self.workspace, "--label", "dashboard-xss", XSS_PROMPT)
            row = page.locator(f'tr[data-id="{wo_id}"]')
            expect(row.locator(".prompt-text")).to_have_text(XSS_PROMPT)
            expect(row).to_contain_text("succeeded")
            if row.locator("img").count() or page.locator("main img").count():
                raise Failure("an <img> element came out of the prompt")
            self.search_finds(page, "onerror", wo_id)
            row.locator("a").first.click()
            expect(page.locator("pre.prompt-full")).to_have_text(XSS_PROMPT)
            expect(page.locator(".transcript")).to_contain_text("<img src=x onerror=alert(1)>")
            if page.locator("main img").count():
                raise Failure("an <img> element came out of the prompt or its output")
            if self.dialogs:
                raise Failure(f"a dialog opened: {self.dialogs}")
            return wo_id

    def keyboard(self, page):
        with self.step("the queue is reachable by keyboard"):
            page.get_by_role("link", name="Queue", exact=True).click()
            expect(page.locator("tbody tr").first).to_be_visible()
            page.locator("body").focus()
            page.evaluate("document.activeElement && document.activeElement.blur()")
            reached = []
            for _ in range(40):
                page.keyboard.press("Tab")
                info = page.evaluate("""() => { const e = document.activeElement;
                    return [e.tagName, e.textContent.trim().slice(0, 30), !!e.closest('tbody')]; }""")
                reached.append(info[1])
                if info[2] and info[0] == "A":
                    break
            else:
                raise Failure(f"40 Tabs never reached a work order's link; focus went through {reached}")
            # Enter on the focused row link opens it.
            page.keyboard.press("Enter")
            expect(page.locator("#wo-title")).to_be_visible()

    def health(self, page):
        with self.step("health and usage draw their charts"):
            page.get_by_role("link", name="Health", exact=True).click()
            expect(page.get_by_role("heading", name="Health and usage")).to_be_visible()
            expect(page.locator(".executors")).to_contain_text("local")
            expect(page.locator("svg.chart")).to_have_count(4)
            expect(page.locator("svg.chart rect.bar").first).to_be_visible()
            self.shot(page, "health-1440.png")

    def screenshots(self, page, wo_id):
        with self.step("screenshots at 1440 and 390 px"):
            page.get_by_role("link", name="Queue", exact=True).click()
            expect(page.locator(f'tr[data-id="{wo_id}"]')).to_be_visible()
            self.shot(page, "queue-1440.png")
            page.goto(f"{self.base}/#/work-orders/{wo_id}")
            expect(page.locator(".transcript")).to_contain_text("line-5")
            self.shot(page, "work-order-1440.png")
            page.set_viewport_size(NARROW)
            page.get_by_role("link", name="Queue", exact=True).click()
            expect(page.locator(f'tr[data-id="{wo_id}"]')).to_be_visible()
            self.no_horizontal_scroll(page, "the queue")
            self.shot(page, "queue-390.png")
            page.locator(f'tr[data-id="{wo_id}"] a').first.click()
            expect(page.locator(".transcript")).to_contain_text("line-5")
            self.no_horizontal_scroll(page, "the work order")
            self.shot(page, "work-order-390.png")
            for view, ready in (("submit", "Submit a work order"), ("health", "Health and usage")):
                page.get_by_role("link", name=view.capitalize(), exact=True).click()
                expect(page.get_by_role("heading", name=ready)).to_be_visible()
                if view == "health":
                    expect(page.locator("svg.chart")).to_have_count(4)
                self.no_horizontal_scroll(page, f"the {view} view")
            page.set_viewport_size(WIDE)

    def dark(self, browser):
        with self.step("dark mode"):
            ctx = browser.new_context(viewport=WIDE, color_scheme="dark")
            page = self.watch(ctx.new_page(), "dark")
            self.page = page
            # A new context has no session: the API key box logs in (when
            # the key is the generated one), else a fresh login link.
            key_file = os.path.join(os.environ["AGENTGATE_ROOT"], "api-key")
            if os.path.exists(key_file):
                page.goto(f"{self.base}/")
                with open(key_file) as f:
                    page.get_by_label("API key").fill(f.read().strip())
                page.get_by_role("button", name="Log in").click()
                self.summary["apiKeyLogin"] = True
            else:
                page.goto(json.loads(self.cli("dashboard", "--json"))["url"])
            expect(page.get_by_role("heading", name="Queue")).to_be_visible()
            expect(page.locator("tbody tr").first).to_be_visible()
            rgb = page.evaluate("getComputedStyle(document.body).backgroundColor")
            nums = [int(n) for n in re.findall(r"\d+", rgb)[:3]]
            if sum(nums) > 3 * 80:
                raise Failure(f"the dark scheme's background is light: {rgb}")
            self.shot(page, "queue-dark-1440.png")
            ctx.close()

    def logout(self, ctx, page):
        with self.step("log out"):
            self.page = page
            page.get_by_role("button", name="Log out").click()
            expect(page.locator("pre.cmd")).to_have_text("agentgate dashboard")
            answer = ctx.request.get(f"{self.base}/dashboard/session").json()
            if answer.get("authenticated") is not False:
                raise Failure(f"after logging out, GET /dashboard/session answers {answer}")


def main():
    drive = None
    try:
        drive = Drive()
        with sync_playwright() as p:
            drive.run(p)
    except Exception as e:  # noqa: BLE001
        msg = str(e) if isinstance(e, Failure) else traceback.format_exc()
        print(f"DASHBOARD-FAIL {msg}", flush=True)
        if drive and drive.errors:
            print("console/page errors so far:\n  " + "\n  ".join(drive.errors), flush=True)
        return 1
    finally:
        if drive:
            shutil.rmtree(drive.workspace, ignore_errors=True)
    result = {
        "ok": True,
        "checks": drive.checks,
        "consoleErrors": 0,
        "toleratedHttpErrors": drive.expected_http,
        "seconds": round(time.monotonic() - drive.started, 1),
        **drive.summary,
    }
    print("DASHBOARD-RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

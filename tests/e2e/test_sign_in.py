"""Sign-in end to end, all on loopback: a real OpenID Connect provider (oidc-provider-mock) and `streamlit run app.py`
with [auth] in a secrets file, two members and a viewer in three browser contexts.

Alice's queued job shows Cancel to her and not to Bob (and tlcore refuses Bob's forged call); the viewer's menu has
no training pages; Alice deletes a run on the Storage page, restores it from the trash, and signs out (audited once).
No training: run folders are written by hand. Screenshots are taken once a page has finished drawing.
"""

from __future__ import annotations

import json
import sys
import urllib.request

import pytest

from tests.e2e.browser import wait_drawn
from tests.e2e.servers import REPO_ROOT, free_port, healthy, serve, streamlit_command, studio_server_env

pytestmark = pytest.mark.e2e

USERS = {name: f"{name}@example.com" for name in ("alice", "bob", "vera")}
ROLES_TOML = 'default = "viewer"\nmember = ["alice@example.com", "bob@example.com"]\n'


def _provider_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def provider(artifacts_dir):
    """oidc-provider-mock on loopback with the three users predefined (their e-mail and name as claims)."""
    port = free_port()
    claims = [json.dumps({"sub": email, "email": email, "email_verified": True, "name": name.title()})
              for name, email in USERS.items()]
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for claim in claims:
        command += ["--user-claims", claim]
    url = f"http://127.0.0.1:{port}"
    yield from serve(command, artifacts_dir / "oidc-provider.log", "oidc-provider-mock", lambda: _provider_ready(url),
                     url)


@pytest.fixture(scope="module")
def signed_app(provider, studio_env, artifacts_dir, tmp_path_factory):
    """The app as a shared server runs it: [auth] in a secrets file, roles in roles.toml, loopback only."""
    port = free_port()
    config = tmp_path_factory.mktemp("auth-config")
    secrets = config / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "e2e-only-cookie-secret-not-for-real-use"\n'
        'client_id = "tlstudio-e2e"\n'
        'client_secret = "e2e-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
    (studio_env["home"] / "roles.toml").write_text(ROLES_TOML)
    env = studio_server_env(studio_env)
    env.pop("TLSTUDIO_ROLES", None)
    url = f"http://127.0.0.1:{port}"
    yield from serve(streamlit_command(sys.executable, port, "--secrets.files", str(secrets)),
                     artifacts_dir / "streamlit-sign-in.log", "streamlit", lambda: healthy(url), url, cwd=REPO_ROOT,
                     env=env)


@pytest.fixture
def studio(studio_env, monkeypatch):
    """This process pointed at the server's folders, to write run folders and to call tlcore as a user would."""
    for variable, name in (("TLSTUDIO_HOME", "home"), ("TLSTUDIO_DATA_ROOT", "data"),
                           ("TLSTUDIO_RUNS_DIR", "runs"), ("KERAS_HOME", "keras")):
        monkeypatch.setenv(variable, str(studio_env[name]))
    monkeypatch.delenv("TLSTUDIO_ROLES", raising=False)
    return studio_env


DRAWN_TIMEOUT_MS = 60_000  # a page's first draw on a loaded 2-core box


def _drawn(tab, known) -> None:
    """Until the page has finished drawing (tests/e2e/browser.py `wait_drawn`), so a screenshot shows widgets."""
    wait_drawn(tab, known, DRAWN_TIMEOUT_MS)


def _snapshot(tab, path) -> None:
    """A screenshot for people reading a failure; best effort, so a slow, shared CI box cannot fail the test here."""
    try:
        tab.screenshot(path=str(path), timeout=10_000)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError and friends
        pass


def _run_of(owner: str, state: str):
    from tlcore.config import TrainConfig
    from tlcore.runs import create_run
    from tlcore.runs.progress import process_identity

    run = create_run(TrainConfig(dataset="sample-digits", weights="random"), owner=owner)
    # A queued job that this test process will run "itself" (as `python -m tlcore train` does): the scheduler
    # starts no worker for it while this process lives, so it stays queued for the whole test.
    waiting = {"waiting_process": process_identity()} if state == "queued" else {}
    run.update_status(state=state, pid=None, **waiting)
    return run


def _sign_in(browser, url: str, who: str, artifacts_dir):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    tab.goto(url)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_role("button", name=USERS[who]).click()  # the provider's form: one button per predefined user
    _drawn(tab, tab.get_by_text(f"Signed in as {who.title()}"))
    _snapshot(tab, artifacts_dir / f"sign_in_{who}.png")
    return context, tab


def test_two_members_and_a_viewer(browser, signed_app, studio, artifacts_dir):
    from tlcore import actions
    from tlcore.access import NotAllowed, read_log, user_from_claims

    queued = _run_of(USERS["alice"], "queued")
    finished = _run_of(USERS["alice"], "finished")
    contexts = []
    try:
        alice_context, alice = _sign_in(browser, signed_app, "alice", artifacts_dir)
        bob_context, bob = _sign_in(browser, signed_app, "bob", artifacts_dir)
        vera_context, vera = _sign_in(browser, signed_app, "vera", artifacts_dir)
        contexts = [alice_context, bob_context, vera_context]

        alice.goto(f"{signed_app}/train?run={queued.id}")
        alice.get_by_role("button", name="Cancel job").wait_for()
        bob.goto(f"{signed_app}/train?run={queued.id}")
        _drawn(bob, bob.get_by_text("Waiting in the queue"))
        _snapshot(bob, artifacts_dir / "sign_in_bob_train.png")
        assert bob.get_by_role("button", name="Cancel job").count() == 0
        with pytest.raises(NotAllowed):  # what a forged request from Bob's session would reach
            actions.cancel_job(user_from_claims({"email": USERS["bob"]}), queued)
        assert not queued.cancel_path.exists()

        nav = vera.locator('[data-testid="stSidebarNav"]')
        nav.get_by_role("link", name="Predict").wait_for()
        for hidden in ("Train", "Fine-tune", "Dataset", "Storage"):
            assert nav.get_by_role("link", name=hidden, exact=True).count() == 0, hidden
        assert alice.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Train", exact=True).count()
        assert vera.get_by_role("button", name="Start training").count() == 0

        alice.goto(f"{signed_app}/storage")
        _drawn(alice, alice.get_by_text(f"Yes, move {finished.id} to the trash"))
        alice.get_by_text(f"Yes, move {finished.id} to the trash").click()
        alice.get_by_role("button", name="Delete").click()
        # Click Restore only once the rerun Delete caused is over: a click on an element that rerun is about to
        # replace can be lost (seen once on the CI box: the trash never emptied).
        _drawn(alice, alice.get_by_role("button", name="Restore"))
        assert not finished.path.exists()
        alice.get_by_role("button", name="Restore").click()
        _drawn(alice, alice.get_by_text("The trash is empty."))
        assert (finished.path / "config.json").exists()
        _snapshot(alice, artifacts_dir / "sign_in_alice_storage.png")
        actions_seen = {(entry["user"], entry["action"]) for entry in read_log()}
        assert {(USERS["alice"], "sign_in"), (USERS["vera"], "sign_in"), (USERS["alice"], "delete"),
                (USERS["alice"], "restore")} <= actions_seen

        alice.get_by_role("button", name="Sign out").click()  # st.logout, then the provider's end-session form
        alice.get_by_role("button", name="End session").click()  # which sends her back to the app, signed out
        alice.get_by_role("button", name="Sign in").wait_for()
        sign_outs = [entry for entry in read_log() if entry["action"] == "sign_out"]
        assert [(entry["user"], entry["how"]) for entry in sign_outs] == [(USERS["alice"], "sign-out button")]
    finally:
        for context in contexts:
            context.close()

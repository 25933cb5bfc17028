from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from epoch_site.accounts.models import User
from epoch_site.accounts.services import sync_users
from epoch_site.config import AuthConfig, UserSpec

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.epoch_site.roles_urls")]

USERS = AuthConfig(
    enabled=True,
    users=(UserSpec("admin", "admin", "READ_WRITE"), UserSpec("guest", "guest", "READ_ONLY")),
)


@pytest.fixture(autouse=True)
def users(settings: SettingsWrapper) -> None:
    settings.EPOCH = replace(settings.EPOCH, auth=USERS)
    sync_users(USERS)


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


class TestApi:
    def test_anonymous_gets_401_with_the_original_challenge(self, client: Client) -> None:
        response = client.get("/apis/v1/probe")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Basic realm="realm"'
        assert response["Content-Type"].startswith("text/plain")
        assert response.content == b"Credentials are required to access this resource."

    def test_wrong_password_gets_401(self, client: Client) -> None:
        assert client.get("/apis/v1/probe", **basic("guest", "nope")).status_code == 401

    def test_guest_may_read(self, client: Client) -> None:
        response = client.get("/apis/v1/probe", **basic("guest", "guest"))
        assert response.status_code == 200
        assert response.json() == {
            "status": "SUCCESS",
            "data": {"read": True},
            "message": "success",
        }

    def test_guest_write_is_forbidden(self, client: Client) -> None:
        response = client.post("/apis/v1/probe", **basic("guest", "guest"))
        assert response.status_code == 403
        assert response.json() == {"status": "FAILED", "message": "[2001]: Forbidden Error"}

    def test_admin_may_write(self, client: Client) -> None:
        response = client.post("/apis/v1/probe", **basic("admin", "admin"))
        assert response.status_code == 200
        assert response.json()["data"] == {"written": True}

    def test_unknown_api_path_gets_enveloped_404(self, client: Client) -> None:
        response = client.get("/apis/v1/nothing-here", **basic("admin", "admin"))
        assert response.status_code == 404
        assert response.json() == {"status": "FAILED", "message": "[2002]: Not Found"}

    def test_wrong_method_gets_enveloped_405(self, client: Client) -> None:
        response = client.delete("/apis/v1/probe", **basic("admin", "admin"))
        assert response.status_code == 405
        assert response.json() == {
            "status": "FAILED",
            "message": "[2003]: Operation is not allowed",
        }

    def test_session_write_without_csrf_token_is_refused(self) -> None:
        browser = Client(enforce_csrf_checks=True)
        browser.login(username="admin", password="admin")
        response = browser.post("/apis/v1/probe")
        assert response.status_code == 403
        assert browser.get("/apis/v1/probe").status_code == 200


class TestUi:
    def test_anonymous_is_sent_to_the_login_page(self, client: Client) -> None:
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login")

    @pytest.mark.parametrize(
        ("username", "label"), [("admin", "read/write"), ("guest", "read-only")]
    )
    def test_login_shows_who_and_which_role(
        self, client: Client, username: str, label: str
    ) -> None:
        response = client.post("/login", {"username": username, "password": username}, follow=True)
        assert response.status_code == 200
        page = response.content.decode()
        assert f"{username}\n" in page or f"{username} " in page
        assert label in page

    def test_wrong_password_shows_an_error_and_stays_logged_out(self, client: Client) -> None:
        response = client.post("/login", {"username": "admin", "password": "x"})
        assert response.status_code == 200
        assert "Wrong username or password." in response.content.decode()
        assert client.get("/").status_code == 302

    def test_logout_ends_the_session(self, client: Client) -> None:
        client.post("/login", {"username": "admin", "password": "admin"})
        assert client.get("/").status_code == 200
        client.post("/logout")
        assert client.get("/").status_code == 302


class TestUserSync:
    def test_password_change_in_config_updates_the_user(self, client: Client) -> None:
        changed = AuthConfig(True, (UserSpec("admin", "new", "READ_WRITE"),))
        report = sync_users(changed)
        assert report.updated == ("admin",)
        assert report.disabled == ("guest",)
        assert client.get("/apis/v1/probe", **basic("admin", "admin")).status_code == 401
        assert client.get("/apis/v1/probe", **basic("admin", "new")).status_code == 200
        assert not User.objects.get(username="guest").is_active

    def test_stored_hash_is_the_same_on_every_node(self) -> None:
        first = User.objects.get(username="admin").password
        User.objects.all().delete()
        sync_users(USERS)
        assert User.objects.get(username="admin").password == first

    def test_session_cookie_from_one_node_is_valid_on_another(self) -> None:
        node_a = Client()
        node_a.post("/login", {"username": "admin", "password": "admin"})
        cookie = node_a.cookies["epoch_session"].value
        User.objects.all().delete()  # node B has its own database, filled from the same config
        sync_users(USERS)
        node_b = Client()
        node_b.cookies["epoch_session"] = cookie
        assert node_b.get("/").status_code == 200


class TestAuthDisabled:
    def test_everyone_may_read_and_write(self, client: Client, settings: SettingsWrapper) -> None:
        settings.EPOCH = replace(settings.EPOCH, auth=AuthConfig(enabled=False))
        assert client.get("/apis/v1/probe").status_code == 200
        assert client.post("/apis/v1/probe").status_code == 200
        assert client.post("/apis/v1/probe", **basic("guest", "wrong")).status_code == 200


class TestCredentialCache:
    def test_repeated_calls_skip_the_password_hash(self, client: Client) -> None:
        from epoch_site.api.authentication import credentials

        credentials._entries.clear()
        assert client.get("/apis/v1/probe", **basic("guest", "guest")).status_code == 200
        assert len(credentials._entries) == 1
        assert client.get("/apis/v1/probe", **basic("guest", "guest")).status_code == 200
        assert len(credentials._entries) == 1

    def test_a_changed_password_invalidates_the_cached_login(self, client: Client) -> None:
        assert client.get("/apis/v1/probe", **basic("guest", "guest")).status_code == 200
        sync_users(
            AuthConfig(
                True,
                (UserSpec("admin", "admin", "READ_WRITE"), UserSpec("guest", "new", "READ_ONLY")),
            )
        )
        assert client.get("/apis/v1/probe", **basic("guest", "guest")).status_code == 401

    def test_a_disabled_user_is_not_let_in_from_the_cache(self, client: Client) -> None:
        assert client.get("/apis/v1/probe", **basic("guest", "guest")).status_code == 200
        User.objects.filter(username="guest").update(is_active=False)
        assert client.get("/apis/v1/probe", **basic("guest", "guest")).status_code == 401

"""Sign-in, lockout, two-factor authentication, language and time zone."""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from kehu.users.lockout import lockout_message

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG = "The username and/or password you specified are not correct."


def _login(client: Client, login: str, password: str = "demo1234") -> Any:
    return client.post(LOGIN, {"login": login, "password": password})


def _signed_in_as(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def _totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


# --- sign-in --------------------------------------------------------------------------------------


def test_login_page_has_no_signup_and_a_language_switch(client: Client, company: Any) -> None:
    page = client.get(LOGIN).content.decode()
    assert 'id="login-form"' in page
    assert 'id="kehu-language-form"' in page
    assert reverse("account_reset_password") in page
    assert "sign up" not in page.lower()
    signup = client.get("/accounts/signup/").content.decode()
    assert 'name="password1"' not in signup


def test_login_with_username(client: Client, company: Any) -> None:
    response = _login(client, "rep1")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _signed_in_as(client) == str(company.rep1.pk)


@pytest.mark.parametrize(
    ("browser", "language", "expected"),
    [("zh-hans", "en", "Successfully signed in"), ("en", "zh-hans", "成功登录")],
)
def test_the_signed_in_message_speaks_the_users_language(
    client: Client, company: Any, browser: str, language: str, expected: str
) -> None:
    """The sign-in page speaks the browser's language; the message it leaves for the next page
    speaks the user's, like that page."""
    from django.contrib.messages import get_messages

    company.rep1.language = language
    company.rep1.save(update_fields=["language"])
    response = client.post(LOGIN, {"login": "rep1", "password": "demo1234"}, HTTP_ACCEPT_LANGUAGE=browser)
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(expected in t for t in texts), texts


def test_login_with_email(client: Client, company: Any) -> None:
    response = _login(client, "Rep1@Example.com")
    assert response.status_code == 302
    assert _signed_in_as(client) == str(company.rep1.pk)


def test_wrong_password_shows_one_error(client: Client, company: Any) -> None:
    response = _login(client, "rep1", "nope")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="login-error"' in page
    assert page.count(WRONG) == 1
    assert _signed_in_as(client) is None


def test_inactive_user_cannot_sign_in(client: Client, company: Any) -> None:
    company.rep1.is_active = False
    company.rep1.save(update_fields=["is_active"])
    _login(client, "rep1")
    assert _signed_in_as(client) is None


def test_logout(client: Client, company: Any) -> None:
    client.force_login(company.rep1)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert _signed_in_as(client) is None


def test_password_change(client: Client, company: Any) -> None:
    client.force_login(company.rep1)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "demo1234", "password1": "Changed-Pass-2026", "password2": "Changed-Pass-2026"},
    )
    assert response.status_code == 302
    company.rep1.refresh_from_db()
    assert company.rep1.check_password("Changed-Pass-2026")


def test_password_reset_sends_an_email(client: Client, company: Any, mailoutbox: list[Any]) -> None:
    response = client.post("/accounts/password/reset/", {"email": "rep2@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["rep2@example.com"]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


# --- lockout --------------------------------------------------------------------------------------


def test_lockout_on_the_login_form(client: Client, company: Any) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = _login(client, "rep1", "wrong")
        assert response.status_code == 200
        assert WRONG in response.content.decode()
    response = _login(client, "rep1", "wrong")
    page = response.content.decode()
    assert response.status_code == 403
    assert page.count(lockout_message()) == 1
    assert WRONG not in page
    assert 'id="login-form"' in page
    # The right password does not help while locked, by username or by e-mail; one message.
    for login in ("rep1", "rep1@example.com"):
        response = _login(client, login, "demo1234")
        page = response.content.decode()
        assert response.status_code == 403
        assert page.count(lockout_message()) == 1
        assert WRONG not in page
        assert "Too many failed login attempts" not in page  # allauth's own rate-limit message
    assert _signed_in_as(client) is None
    # Other users are not affected.
    assert _login(Client(), "rep2").status_code == 302


def test_email_and_username_failures_count_together(client: Client, company: Any) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit):
        _login(client, "rep1" if i % 2 else "rep1@example.com", "wrong")
    response = _login(client, "rep1", "demo1234")
    assert response.status_code == 403
    assert lockout_message() in response.content.decode()


def test_lockout_on_the_token_endpoint_gives_the_same_message(client: Client, company: Any) -> None:
    url = "/api/v1/auth/token/"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "rep3", "password": "bad"}, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_credentials"
    response = client.post(url, {"username": "rep3", "password": "bad"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"code": "locked_out", "message": lockout_message(), "fields": {}}
    response = client.post(url, {"username": "rep3", "password": "demo1234"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["message"] == lockout_message()
    # The sign-in form is locked too, with the same words.
    page = _login(Client(), "rep3").content.decode()
    assert lockout_message() in page


def test_lockout_page_for_paths_without_our_form(rf: Any, company: Any) -> None:
    from kehu.users.lockout import lockout_response

    request = rf.get("/admin/login/")
    request.user = company.rep1
    response = lockout_response(request, None, {})
    assert response.status_code == 403
    assert lockout_message() in response.content.decode()


def test_allauth_rate_limit_message_is_replaced(company: Any) -> None:
    from kehu.users.adapters import AccountAdapter

    error = AccountAdapter().validation_error("too_many_login_attempts")
    assert error.messages == [lockout_message()]


# --- two-factor authentication --------------------------------------------------------------------


def _require_mfa(company: Any) -> None:
    company.role_rep.require_mfa = True
    company.role_rep.save(update_fields=["require_mfa"])


def test_required_mfa_redirects_until_enrolled(client: Client, company: Any) -> None:
    _require_mfa(company)
    response = _login(client, "rep1")
    assert response.status_code == 302
    page = client.get("/me/")
    assert page.status_code == 302
    assert page["Location"] == reverse("mfa_activate_totp")
    htmx = client.get("/me/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == reverse("mfa_activate_totp")
    # The MFA pages, language switch and sign-out stay reachable.
    activate = client.get(reverse("mfa_activate_totp"))
    assert activate.status_code == 200
    assert "data:image/svg+xml" in activate.content.decode()  # the QR code
    assert client.get(reverse("mfa_index")).status_code == 200
    secret = activate.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": _totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=company.rep1, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=company.rep1, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert client.get("/me/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302


def test_users_without_required_mfa_are_not_redirected(client: Client, company: Any) -> None:
    client.force_login(company.rep2)
    assert client.get("/me/").status_code == 200


def test_login_asks_for_the_authenticator_code(client: Client, company: Any) -> None:
    secret = generate_totp_secret()
    TOTP.activate(company.rep1, secret)
    response = _login(client, "rep1")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert _signed_in_as(client) is None
    page = client.get(reverse("mfa_authenticate"))
    assert page.status_code == 200
    wrong = client.post(
        reverse("mfa_authenticate"), {"code": "000000" if _totp_code(secret) != "000000" else "111111"}
    )
    assert wrong.status_code == 200
    assert _signed_in_as(client) is None
    done = client.post(reverse("mfa_authenticate"), {"code": _totp_code(secret)})
    assert done.status_code == 302
    assert _signed_in_as(client) == str(company.rep1.pk)


def test_login_with_a_recovery_code(client: Client, company: Any) -> None:
    TOTP.activate(company.rep1, generate_totp_secret())
    codes = RecoveryCodes.activate(company.rep1).generate_codes()
    _login(client, "rep1")
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert _signed_in_as(client) == str(company.rep1.pk)
    # A recovery code works once.
    client.logout()
    _login(client, "rep1")
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert _signed_in_as(client) is None


def test_required_mfa_with_recovery_codes_enrolled_is_satisfied(client: Client, company: Any) -> None:
    _require_mfa(company)
    TOTP.activate(company.rep1, generate_totp_secret())
    client.force_login(company.rep1)
    assert client.get("/me/").status_code == 200


# --- language and time zone -----------------------------------------------------------------------


def test_page_renders_in_chinese_for_a_chinese_user(client: Client, company: Any) -> None:
    company.rep1.language = "zh-hans"
    company.rep1.save(update_fields=["language"])
    client.force_login(company.rep1)
    page = client.get("/me/").content.decode()
    assert '<html lang="zh-hans"' in page
    assert "个人 API 令牌" in page  # "Personal API tokens"


def test_page_renders_in_english_for_an_english_user(client: Client, company: Any) -> None:
    company.rep1.language = "en"
    company.rep1.save(update_fields=["language"])
    client.force_login(company.rep1)
    page = client.get("/me/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert '<html lang="en"' in page
    assert "Personal API tokens" in page


def test_login_page_in_chinese_by_cookie(client: Client, company: Any) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(LOGIN).content.decode()
    assert "用户名或电子邮箱" in page  # "Username or e-mail"


def test_language_switch_is_remembered_for_the_user(client: Client, company: Any) -> None:
    client.force_login(company.rep1)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/me/"})
    assert response.status_code == 302
    company.rep1.refresh_from_db()
    assert company.rep1.language == "zh-hans"


def test_time_zone_is_activated(client: Client, company: Any) -> None:
    from kehu.users import services

    services.api_token_create(user=company.rep1, name="tz")
    company.rep1.time_zone = "America/New_York"
    company.rep1.save(update_fields=["time_zone"])
    client.force_login(company.rep1)
    response = client.get("/me/")
    assert response.context["TIME_ZONE"] == "America/New_York"


def test_admin_site_is_for_superusers_only(client: Client, company: Any) -> None:
    staff = company.rep1
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    company.admin.is_staff = True  # a Kehu administrator role is not enough either
    company.admin.save(update_fields=["is_staff"])
    client.force_login(company.admin)
    assert client.get("/admin/").status_code == 302
    company.admin.is_superuser = True
    company.admin.save(update_fields=["is_superuser"])
    client.force_login(company.admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/users/user/").status_code == 200

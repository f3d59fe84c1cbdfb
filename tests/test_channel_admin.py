"""数据来源 in the admin: the district administrator configures a channel's scheduled pull
(address, credential header and the NAME of the environment variable holding the secret), sees
where its pulls stand and starts one at once; bad settings get Chinese messages; the secret is
never stored or shown; other roles cannot touch channels."""
from __future__ import annotations

from tests.test_pull import HEADER, SOURCE, TOKEN, TOKEN_ENV, channel, endpoint  # noqa: F401 — fixtures reused

URL = "/admin/clues/channel/"


def form(ch, **changes) -> dict:
    data = {"name": ch.name, "pull_url": ch.pull_url, "auth_header": ch.auth_header, "auth_env": ch.auth_env,
            "sort": ch.sort}
    if ch.enabled:
        data["enabled"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_district_admin_configures_a_pull_and_starts_it_at_once(channel, endpoint, client_for, settings):
    from clues.models import Channel, Clue, PullState

    settings.INGEST_UPLOAD_SYNC = True  # the background task runs in the request
    Channel.objects.filter(pk=channel.pk).update(pull_url="", auth_header="", auth_env="")
    c = client_for("demo_district")
    response = c.post(f"{URL}{channel.pk}/change/", form(channel, auth_header=HEADER, auth_env=TOKEN_ENV))
    assert response.status_code == 302
    page = c.get(f"{URL}{channel.pk}/change/").content.decode()
    assert f"环境变量 {TOKEN_ENV} 已设置" in page and TOKEN not in page  # the secret is never shown
    assert 'id="pull-now-button"' in page

    done = c.post(f"{URL}{channel.pk}/pull/", follow=True).content.decode()
    assert "已提交「" in done
    assert Clue.objects.filter(channel_id=SOURCE).count() == 6
    assert endpoint.requests and all(r["headers"].get(HEADER) == TOKEN for r in endpoint.requests)
    state = PullState.objects.get(channel=channel)
    assert state.last_status == "ok" and state.since is not None
    listing = c.get(URL).content.decode()
    assert "成功" in listing and endpoint.url.split("?")[0] in listing


def test_bad_pull_settings_are_refused_with_chinese_messages(channel, client_for):
    from clues.models import Channel

    c = client_for("demo_district")
    cases = [({"pull_url": "ftp://example.invalid/x"}, "应以 http:// 或 https:// 开头"),
             ({"auth_env": TOKEN}, "请填写变量名，不要填写密钥本身"),
             ({"auth_header": "X Api: Token"}, "认证头名称只能包含"),
             ({"auth_header": "", "auth_env": TOKEN_ENV}, "需同时填写")]
    for changes, message in cases:
        html = c.post(f"{URL}{channel.pk}/change/", form(channel, **changes)).content.decode()
        assert message in html, message
    stored = Channel.objects.get(pk=channel.pk)
    assert (stored.pull_url, stored.auth_header, stored.auth_env) == (channel.pull_url, HEADER, TOKEN_ENV)


def test_a_missing_credential_variable_is_pointed_out(channel, client_for, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV)
    page = client_for("demo_district").get(f"{URL}{channel.pk}/change/").content.decode()
    assert f"环境变量 {TOKEN_ENV} 未设置" in page


def test_only_the_district_admin_manages_channels_and_none_are_added_or_deleted(channel, client_for, endpoint):
    for user in ("demo_mediator", "demo_street", "demo_config"):
        c = client_for(user)
        assert c.get(URL).status_code == 403, user
        assert c.post(f"{URL}{channel.pk}/pull/").status_code == 403, user
    assert endpoint.requests == []
    c = client_for("demo_district")
    assert c.get(f"{URL}add/").status_code == 403
    assert c.get(f"{URL}{channel.pk}/delete/").status_code == 403
    assert c.get(f"{URL}{channel.pk}/pull/").status_code == 405

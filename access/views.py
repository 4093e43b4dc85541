"""The server-rendered pages of signing in: the form and the short messages (revoked,
forbidden, an expired link). Plain HTML on the cockpit's dark theme, no scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, render_template_string

TEMPLATE = (Path(__file__).parent / "templates" / "login.html").read_text(encoding="utf-8")
MESSAGES = {   # kind -> (title, text)
    "revoked": ("访问已撤销 · Access revoked",
                "此大屏的访问令牌已被撤销或已过期。请联系管理员。 "
                "This wall's access token was revoked or has expired. Ask an administrator."),
    "forbidden": ("无权访问 · Access denied",
                  "您的角色不能查看此页面。 Your role may not open this page."),
    "signed_out": ("已退出登录 · Signed out", "请重新登录。 Please sign in again."),
    "unavailable": ("暂时无法登录 · Sign-in unavailable",
                    "登录服务暂时不可用，请稍后重试。 The sign-in store does not answer; try again shortly."),
    "link": ("链接无效 · Link not valid",
             "此一次性登录链接已使用或已过期。 This one-time sign-in link was used or has expired."),
}
CITY: dict[str, str] = {"name": ""}


def _page(status: int, **values: Any) -> Response:
    defaults = {"city": CITY["name"], "form": False, "providers": [], "link": None, "sign_out": False}
    body = render_template_string(TEMPLATE, **{**defaults, **values})
    return Response(body, status=status, mimetype="text/html",
                    headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def message_page(kind: str, status: int) -> Response:
    title, text = MESSAGES[kind]
    return _page(status, kind=kind, title=title, text=text,
                 link="/login" if kind in ("signed_out", "link") else None)


def sign_out_page(*, csrf: str, status: int = 200) -> Response:
    """The sign-out button on its own page: signing out is a POST with the session's CSRF
    token, so no other site can sign a person (or a wall) out with a link."""
    return _page(status, kind="sign_out", title="退出登录 · Sign out", sign_out=True, csrf=csrf,
                 text="确认退出登录？ Sign out of the cockpit?")


def login_page(*, csrf: str, next_url: str, name: str = "", error: str = "", status: int = 200,
               providers: list[dict[str, str]] | None = None) -> Response:
    return _page(status, form=True, title="登录 · Sign in", csrf=csrf, next=next_url, name=name,
                 error=error, providers=providers or [])

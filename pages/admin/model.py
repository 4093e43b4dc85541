"""What the admin page needs from the server, and its inputs checked.

The page does not import the access package: the server side registers itself in the
Flask app's ``extensions`` under :data:`EXTENSION` and the page looks it up by that name
(:func:`backend`), meeting it only through the :class:`AdminBackend` protocol.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import current_app

PATH = "/admin"
EXTENSION = "citybrain.admin"
ACTOR_MAX = 160
PAGE_SIZE = 25   # audit events per page

TEXT: dict[str, tuple[str, str]] = {
    "title": ("系统管理", "Administration"),
    "users": ("用户", "Users"),
    "tokens": ("大屏令牌", "Wall tokens"),
    "check": ("平台检查", "Platform check"),
    "trail": ("审计日志", "Audit trail"),
    "run_check": ("运行检查", "Run the check"),
    "check_hint": ("读取每个指标的绑定一次，报告需要修改的地方", "Reads every binding once and reports what to change"),
    "problems": ("{n}个问题", "{n} problems"),
    "revoke": ("吊销", "Revoke"),
    "revoked": ("已吊销：{names}", "Revoked: {names}"),
    "export": ("导出CSV", "Export CSV"),
    "all_actions": ("全部操作", "All actions"),
    "actor_filter": ("操作人包含…", "Actor contains…"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page_of": ("第{page}/{pages}页 · 共{total}条", "Page {page} of {pages} · {total} events"),
    "none": ("暂无", "None"),
    "all_areas": ("全部", "all"),
    "unavailable": ("管理功能未启用", "Administration is not installed on this server"),
    "col_name": ("用户名", "Name"), "col_display": ("姓名", "Display name"), "col_roles": ("角色", "Roles"),
    "col_areas": ("区域", "Areas"), "col_method": ("登录方式", "Sign-in"), "col_state": ("状态", "State"),
    "col_last": ("最近登录", "Last sign-in"), "col_id": ("编号", "Id"), "col_layouts": ("布局", "Layouts"),
    "col_playlists": ("轮播", "Playlists"), "col_created_by": ("创建人", "Created by"),
    "col_expires": ("到期", "Expires"), "col_used": ("最近使用", "Last used"), "col_at": ("时间", "Time"),
    "col_actor": ("操作人", "Actor"), "col_action": ("操作", "Action"), "col_target": ("对象", "Target"),
    "col_detail": ("详情", "Detail"), "col_client": ("来源地址", "Client"),
    "state_live": ("有效", "live"), "state_revoked": ("已吊销", "revoked"), "state_expired": ("已过期", "expired"),
    "state_active": ("正常", "active"), "state_disabled": ("已停用", "disabled"),
    "method_password": ("密码", "password"), "method_oidc": ("统一身份认证", "OIDC"),
}


def tr(key: str, lang: str, **values: Any) -> str:
    """The page's string ``key`` in ``lang``."""
    zh, en = TEXT[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


class AdminBackend(Protocol):
    """The server side the page calls (each call refuses anyone but an admin)."""

    def users(self) -> list[dict[str, Any]]: ...
    def tokens(self) -> list[dict[str, Any]]: ...
    def revoke(self, token_id: int) -> list[str]: ...
    def platform_check(self) -> tuple[str, int | None]: ...
    def audit_actions(self) -> list[str]: ...
    def audit_page(self, *, action: str | None, actor: str | None,
                   page: int, size: int) -> tuple[list[dict[str, Any]], int, int]: ...
    def export_audit(self, *, action: str | None, actor: str | None) -> tuple[str, str]: ...


def backend() -> AdminBackend | None:
    """The server side registered on the running app, or ``None``."""
    found = current_app.extensions.get(EXTENSION)
    return found if found is not None else None


def text_filter(value: object, limit: int = ACTOR_MAX) -> str | None:
    """A filter value from the browser: a short string, else no filter."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] or None


def page_number(value: object) -> int:
    """A page index from the browser's store: a small non-negative int, else 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return min(max(0, value), 1_000_000)

"""UI text in English and Simplified Chinese."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

LANGS = ("en", "zh-CN")

MESSAGES: dict[str, dict[str, str]] = {
    "app": {"en": "Plantroom", "zh-CN": "Plantroom 设施运维"},
    "open_work_orders": {"en": "Open work orders", "zh-CN": "待处理工单"},
    "none_open": {"en": "No open work orders. All clear.", "zh-CN": "暂无待处理工单。"},
    "asset": {"en": "Asset", "zh-CN": "设备"},
    "priority": {"en": "Priority", "zh-CN": "优先级"},
    "status": {"en": "Status", "zh-CN": "状态"},
    "trigger": {"en": "Triggered by", "zh-CN": "触发读数"},
    "opened": {"en": "Opened", "zh-CN": "创建时间"},
    "respond_by": {"en": "Respond by", "zh-CN": "响应时限"},
    "resolve_by": {"en": "Resolve by", "zh-CN": "修复时限"},
    "sla_missed": {"en": "SLA missed", "zh-CN": "已超时"},
    "sla_paused": {"en": "clock paused", "zh-CN": "计时暂停"},
    "sla_provisional": {"en": "provisional", "zh-CN": "暂定"},
    "sla_provisional_why": {
        "en": "Provisional: next year's official holidays are not loaded yet, so weekdays are "
        "counted as working days",
        "zh-CN": "暂定：尚未载入下一年的法定节假日安排，工作日暂按周一至周五计算",
    },
    "acknowledge": {"en": "Acknowledge", "zh-CN": "确认接单"},
    "resolve": {"en": "Resolve", "zh-CN": "标记完成"},
    "sign_in": {"en": "Sign in", "zh-CN": "登录"},
    "sign_out": {"en": "Sign out", "zh-CN": "退出"},
    "username": {"en": "Username", "zh-CN": "用户名"},
    "password": {"en": "Password", "zh-CN": "密码"},
    "bad_login": {"en": "Wrong username or password.", "zh-CN": "用户名或密码错误。"},
    "login_throttled": {
        "en": "Too many attempts. Please wait a moment before signing in again.",
        "zh-CN": "尝试次数过多，请稍后再登录。",
    },
    "login_expired": {
        "en": "This sign-in form had expired. Please sign in again.",
        "zh-CN": "登录页面已过期，请重新登录。",
    },
    "refires": {"en": "alerts", "zh-CN": "次告警"},
    "manual": {"en": "Raised by hand", "zh-CN": "人工报修"},
    "done": {"en": "Updated work order", "zh-CN": "工单已更新"},
    "not_allowed": {"en": "Not allowed", "zh-CN": "不允许此操作"},
    "language": {"en": "中文", "zh-CN": "English"},
    "signed_in_as": {"en": "Signed in as", "zh-CN": "当前用户"},
    "updated": {"en": "Updated", "zh-CN": "更新于"},
    "P1": {"en": "P1 emergency", "zh-CN": "P1 紧急"},
    "P2": {"en": "P2 urgent", "zh-CN": "P2 急"},
    "P3": {"en": "P3 routine", "zh-CN": "P3 一般"},
    "P4": {"en": "P4 planned", "zh-CN": "P4 计划"},
    "new": {"en": "New", "zh-CN": "新建"},
    "assigned": {"en": "Assigned", "zh-CN": "已派单"},
    "acknowledged": {"en": "Acknowledged", "zh-CN": "已接单"},
    "in_progress": {"en": "In progress", "zh-CN": "处理中"},
    "on_hold": {"en": "On hold", "zh-CN": "挂起"},
    "hold": {"en": "Put on hold", "zh-CN": "挂起"},
    "resume": {"en": "Resume work", "zh-CN": "恢复处理"},
    "hold_reason": {"en": "Waiting for", "zh-CN": "挂起原因"},
    "hold_note": {"en": "Note (needed for 'other')", "zh-CN": "备注（选“其他”时必填）"},
    "hold_parts": {"en": "Parts", "zh-CN": "等待备件"},
    "hold_access": {"en": "Access", "zh-CN": "无法进入现场"},
    "hold_contractor": {"en": "Contractor", "zh-CN": "等待外包单位"},
    "hold_other": {"en": "Other", "zh-CN": "其他"},
    "resolved": {"en": "Resolved", "zh-CN": "已完成"},
    "role_admin": {"en": "administrator", "zh-CN": "管理员"},
    "role_engineer": {"en": "engineer", "zh-CN": "工程师"},
    "role_technician": {"en": "technician", "zh-CN": "技术员"},
    "role_contractor": {"en": "contractor", "zh-CN": "外包单位"},
    "role_requester": {"en": "requester", "zh-CN": "报修人"},
}


def pick_lang(request: Request) -> str:
    """?lang=, then the lang cookie, then Accept-Language; English otherwise."""
    for cand in (request.query_params.get("lang"), request.cookies.get("lang")):
        if cand in LANGS:
            return cand
    accept = request.headers.get("accept-language", "").lower()
    return "zh-CN" if accept.startswith("zh") else "en"


def translator(lang: str) -> Callable[[str], str]:
    """A t(key) function for templates."""

    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry.get(lang, entry["en"]) if entry else key

    return t

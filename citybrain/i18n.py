"""UI strings in zh-CN (the default) and English.

Indicator names come from the catalogue; everything the code itself says is here.
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

_STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("城市大脑驾驶舱", "City Brain Cockpit"),
    "heartbeat": ("城市心跳", "City heartbeat"),
    "city_index": ("城市运行指数", "City operation index"),
    "domain_pulse": ("领域脉搏 · 近{n}分钟", "Domain pulse · last {n} min"),
    "domain_pulse_hours": ("领域脉搏 · 近{n}小时", "Domain pulse · last {n} h"),
    "domain_scores": ("领域评分", "Domain scores"),
    "live_events": ("实时事件", "Live events"),
    "headline": ("核心指标", "Headline indicators"),
    "updated": ("数据时间", "Data as of"),
    "ago_s": ("{n}秒前", "{n}s ago"),
    "ago_m": ("{n}分钟前", "{n} min ago"),
    "stale": ("数据过期", "Stale data"),
    "no_data": ("暂无数据", "No data"),
    "no_events": ("暂无事件", "No events"),
    "index_parts": ("基于 {used}/{total} 项指标", "from {used} of {total} indicators"),
    "state_not_connected": ("未接入", "Not connected"),
    "state_no_data": ("暂无数据", "No data yet"),
    "state_stale": ("数据过期", "Stale"),
    "state_error": ("错误", "Error"),
    "status_good": ("运行良好", "Running well"),
    "status_warn": ("需要关注", "Needs attention"),
    "status_alarm": ("告警", "Alarm"),
    "status_unknown": ("未知", "Unknown"),
    "domain_traffic": ("交通", "Traffic"),
    "domain_safety": ("安全", "Safety"),
    "domain_environment": ("环境", "Environment"),
    "domain_energy": ("能源", "Energy"),
    "domain_facilities": ("设施", "Facilities"),
    "domain_services": ("民生服务", "Public services"),
    "domain_economy": ("经济", "Economy"),
    "kind_police_110": ("110警情", "110 police"),
    "kind_fire_119": ("119火警", "119 fire"),
    "kind_medical_120": ("120急救", "120 medical"),
    "kind_hotline_12345": ("12345热线", "12345 hotline"),
    "kind_urban_mgmt": ("城市管理", "Urban management"),
    "kind_traffic_accident": ("交通事故", "Traffic accident"),
    "event_reported": ("已上报", "Reported"),
    "event_dispatched": ("已派单", "Dispatched"),
    "event_handling": ("处置中", "Handling"),
    "event_closed": ("已办结", "Closed"),
    "severity": ("{n}级", "Level {n}"),
    "lang_switch": ("EN", "中文"),
    "sign_out": ("退出", "Sign out"),
    "admin_nav": ("系统管理", "Admin"),
    "target": ("目标", "target"),
    "error_panel": ("面板暂不可用", "Panel unavailable"),
    "map": ("城市地图", "City map"),
    "paused": ("已暂停 · 空格继续", "Paused · space to resume"),
    "band_good": ("良好", "good"),
    "band_warn": ("关注", "warn"),
    "band_alarm": ("告警", "alarm"),
    "layer_areas": ("区域指标", "Areas"),
    "layer_roads": ("道路拥堵", "Road congestion"),
    "layer_events": ("实时事件", "Live events"),
    "layer_cameras": ("视频监控", "Cameras"),
    "layer_sensors": ("环境监测", "Air sensors"),
    "layer_facilities": ("市政设施", "Facilities"),
    "layer_parking": ("停车场", "Parking"),
    "layer_heat": ("空气热力", "Air heat map"),
    "level_district": ("区县", "District"),
    "level_street": ("街道", "Street"),
    "level_grid": ("网格", "Grid"),
    "indicator": ("指标", "Indicator"),
    "level": ("层级", "Level"),
    "details": ("详情", "Details"),
    "click_hint": ("点击区域或事件查看详情", "Click an area or an event for details"),
    "drill": ("下钻到{level}", "Drill into {level}"),
    "nearby_cameras": ("周边视频（{r}米内）", "Cameras within {r} m"),
    "nearby_facilities": ("周边设施", "Facilities nearby"),
    "lifecycle": ("处置流程", "Lifecycle"),
    "none_nearby": ("附近没有", "None nearby"),
    "faulty": ("故障", "fault"),
    "working": ("正常", "working"),
    "occupancy": ("占用率", "occupancy"),
    "online": ("在线", "online"),
    "offline": ("离线", "offline"),
}


def _merge_page_strings() -> None:
    """The analysis pages keep their strings in their own table."""
    from .i18n_analysis import ANALYSIS_STRINGS

    for key, pair in ANALYSIS_STRINGS.items():
        _STRINGS.setdefault(key, pair)


def t(key: str, lang: str, **values: object) -> str:
    """The string ``key`` in ``lang``, formatted with ``values``; unknown keys show as-is."""
    pair = _STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text


def valid_lang(lang: object) -> str:
    """``lang`` if it is a supported language, else the default."""
    return lang if isinstance(lang, str) and lang in LANGS else DEFAULT_LANG


_merge_page_strings()

"""The ``maintenance:`` section of site.yaml: preventive-maintenance schedules and the statutory
templates they may start from. These are the shapes; generation lives in workorders/pm/service.py
and the PM calendar in workorders/pm/calendar.py.

A schedule repeats by an RFC 5545 RRULE counted from ``dtstart`` in the site's timezone::

    maintenance:
      schedules:
        - id: lift-15d
          template: elevator_15d        # rrule, name, lead time and checklist from TSG T5002
          select: {asset_class: [Elevator]}
          dtstart: 2026-01-05
        - id: chiller-filters
          name: Chiller water filter clean
          select: {assets: [chiller-1]}
          rrule: FREQ=MONTHLY;BYMONTHDAY=1
          dtstart: 2026-01-01
          mode: floating                # next one counted from when this one was done
          lead_time: 3d
          checklist: [Isolate and drain the strainer, Clean the mesh, Refill and vent]
        - id: sprinkler-valves            # a statutory duty of the site's own, with a hard limit
          name: Sprinkler alarm valve check
          name_zh: 喷淋报警阀检查
          select: {tags: [fire]}
          rrule: FREQ=MONTHLY
          dtstart: 2026-01-10
          statutory: true                 # no KPI grace on its due date
          max_gap_days: 31                # late if done more than 31 days after the previous one

Every template is statutory. ``elevator_15d`` carries the lifts' 15-day hard limit, and
``elevator_periodic_inspection`` (TSG T7001, the yearly inspection by an inspection body) opens
``inspection`` work orders: a different duty from the maintenance of TSG T5002.

Counter-based schedules (every 2,000 run hours, every 50,000 trips) are not here: they are
``meter_interval`` rules under ``rules:``, which the alert engine runs on the live counters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule as Recurrence
from dateutil.rrule import rrulestr
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from alerts.rules.base import Selector
from config.units import Duration

DAY = 86400.0
#: Frequencies a PM schedule may use: anything faster is monitoring, not maintenance.
FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")


@dataclass(frozen=True)
class Template:
    """A statutory interval with its default name, lead time and checklist."""

    name: str
    rrule: str
    lead_time: float
    checklist: tuple[str, ...]
    source: str
    #: The work order's type: maintenance the crew or contractor does ('preventive'), or an
    #: inspection by someone else ('inspection', e.g. the inspection body of TSG T7001).
    type: Literal["preventive", "inspection"] = "preventive"
    #: The statutory hard limit: at most this many days between two completed jobs on an
    #: asset; a later job done after it is late whatever grace the PM-compliance KPI allows.
    max_gap_days: int | None = None
    #: The name in Simplified Chinese, for the PM calendar and the asset page.
    name_zh: str | None = None

    def defaults(self) -> dict[str, Any]:
        """The schedule fields this template fills in when the schedule leaves them out."""
        return {
            "name": self.name,
            "rrule": self.rrule,
            "lead_time": self.lead_time,
            "checklist": list(self.checklist),
            "type": self.type,
            "max_gap_days": self.max_gap_days,
            "statutory": True,
            "name_zh": self.name_zh,
        }


_TSG = "TSG T5002-2017 电梯维护保养规则, Annex A (items abridged)"
_T7001 = "TSG T7001 电梯监督检验和定期检验规则: periodic inspection by an approved inspection body"
_FIRE = "GB 50974-2014 maintenance chapter and GB 25201-2010"

#: Templates for the statutory intervals in DOMAIN.md. The checklists are abridged: extend a
#: schedule's ``checklist:`` to match the maintenance contract.
TEMPLATES: dict[str, Template] = {
    # TSG T5002-2017: maintenance at least every 15 days, with half-monthly items.
    "elevator_15d": Template(
        name="Elevator half-monthly maintenance",
        name_zh="电梯半月维护保养",
        rrule="FREQ=DAILY;INTERVAL=15",
        lead_time=2 * DAY,
        # 特种设备安全监察条例 §31: maintenance at least every 15 days, a hard limit.
        max_gap_days=15,
        checklist=(
            "Machine room clean, lit, doors locked (机房环境)",
            "Manual emergency operation tools in place (手动紧急操作装置)",
            "Traction machine runs without abnormal noise or vibration (驱动主机)",
            "Brake pins lubricated; brake clearance within spec (制动器销轴, 制动器间隙)",
            "Governor pins lubricated and free (限速器各销轴部位)",
            "Car-top inspection and stop switches work (轿顶检修开关、停止装置)",
            "Car lighting, fan and emergency lighting work (轿厢照明、风扇、应急照明)",
            "Car alarm and intercom work (轿内报警装置、对讲系统)",
            "Door light curtain / safety edge works (轿门防撞击保护装置)",
            "Car and landing door lock contacts clean and reliable (门锁电气触点)",
            "Landing doors self-close and locks reset (层门自动关门装置、门锁自动复位)",
            "Levelling accuracy within spec (轿厢平层准确度)",
            "Pit dry and clean; pit stop switch works (底坑环境、底坑急停开关)",
        ),
        source=_TSG,
    ),
    "elevator_quarterly": Template(
        name="Elevator quarterly maintenance",
        name_zh="电梯季度维护保养",
        rrule="FREQ=MONTHLY;INTERVAL=3",
        lead_time=7 * DAY,
        checklist=(
            "Gearbox oil level right, no leaks (减速机润滑油)",
            "Brake linings clean, wear within limits (制动衬)",
            "Encoder clean and secure (编码器)",
            "Sheave grooves and suspension ropes: wear within limits (曳引轮槽、悬挂装置)",
            "Governor sheave and rope clean (限速器轮槽、限速器钢丝绳)",
            "Guide shoe linings and rollers: wear within limits (靴衬、滚轮)",
            "Car door closed safety contact works (验证轿门关闭的电气安全装置)",
            "Firefighter switch works (消防开关)",
            "Oil buffer level right (耗能缓冲器)",
        ),
        source=_TSG,
    ),
    "elevator_half_yearly": Template(
        name="Elevator half-yearly maintenance",
        name_zh="电梯半年维护保养",
        rrule="FREQ=MONTHLY;INTERVAL=6",
        lead_time=14 * DAY,
        checklist=(
            "Motor-gearbox coupling secure (电动机与减速机联轴器)",
            "Sheave bearings quiet and lubricated (驱动轮、导向轮轴承部)",
            "Control cabinet terminals tight (控制柜内各接线端子)",
            "Rope terminations secure (悬挂装置、补偿绳端接)",
            "Governor rope wear within limits (限速器钢丝绳)",
            "Ascending car overspeed protection works (上行超速保护装置)",
            "Car load weighing correct (轿厢称重装置)",
            "Travelling cable undamaged (随行电缆)",
            "Final limit switches work (上下极限开关)",
        ),
        source=_TSG,
    ),
    "elevator_yearly": Template(
        name="Elevator yearly maintenance",
        name_zh="电梯年度维护保养",
        rrule="FREQ=YEARLY",
        lead_time=30 * DAY,
        checklist=(
            "Contactor and relay contacts clean and reliable (控制柜接触器、继电器触点)",
            "Brake holding capacity within spec (制动器制动能力)",
            "Insulation of the conductive circuits tested (导电回路绝缘性能测试)",
            "Governor and safety gear linkage tested (限速器安全钳联动试验)",
            "Ascending car overspeed protection tested (上行超速保护装置动作试验)",
            "Car frame, car door and guide rail fixings tight (轿厢架、轿门、导轨支架)",
            "Landing doors and sills secure (层门装置和地坎)",
            "Buffers secure (缓冲器)",
        ),
        source=_TSG,
    ),
    # TSG T5002-2017: an emergency rescue drill at least every half year.
    "elevator_rescue_drill": Template(
        name="Elevator emergency rescue drill",
        name_zh="电梯应急救援演练",
        rrule="FREQ=MONTHLY;INTERVAL=6",
        lead_time=14 * DAY,
        checklist=(
            "Drill freeing a trapped passenger with the contractor and the duty staff",
            "Record the time taken to reach and open the car",
            "Rescue tools and manual release instructions are in the machine room",
        ),
        source="TSG T5002-2017",
    ),
    # TSG T7001: the yearly periodic inspection by an inspection body. A different duty from
    # the maintenance above (TSG T5002), which the maintenance contractor does: the site books
    # the inspection body, the contractor's yearly self-check report is ready, and the new
    # inspection certificate goes up in the car.
    "elevator_periodic_inspection": Template(
        name="Elevator annual periodic inspection (inspection body)",
        name_zh="电梯年度定期检验（检验机构）",
        rrule="FREQ=YEARLY",
        lead_time=45 * DAY,
        checklist=(
            "Inspection booked with the inspection body before the certificate expires (定期检验)",
            "Maintenance contractor's yearly self-check report ready (维保单位年度自行检查记录)",
            "Inspector accompanied; nonconformities recorded (检验意见通知书)",
            "Nonconformities rectified and reported back to the inspection body (整改)",
            "New inspection certificate posted in the car (电梯检验合格标志)",
        ),
        source=_T7001,
        type="inspection",
    ),
    # GB 50974: a simulated automatic start of each fire pump every week.
    "fire_pump_weekly": Template(
        name="Fire pump weekly automatic start",
        name_zh="消防泵每周模拟自动启泵",
        rrule="FREQ=WEEKLY",
        lead_time=1 * DAY,
        checklist=(
            "Simulate the automatic start condition; the pump starts and runs",
            "No abnormal noise or vibration; record the outlet pressure",
            "Automatic inspection (巡检) record present",
        ),
        source=_FIRE,
    ),
    # GB 50974: a manual start of each fire pump every month, with the power supply checked.
    "fire_pump_monthly": Template(
        name="Fire pump monthly manual start",
        name_zh="消防泵每月手动启泵",
        rrule="FREQ=MONTHLY",
        lead_time=3 * DAY,
        checklist=(
            "Start each fire pump by hand and run it",
            "Check the main and standby power supplies and the changeover",
            "Record running current and outlet pressure",
        ),
        source=_FIRE,
    ),
    # GB 50974: jockey-pump start and stop pressures checked every day.
    "jockey_pump_daily": Template(
        name="Jockey pump daily check",
        name_zh="稳压泵每日压力检查",
        rrule="FREQ=DAILY",
        lead_time=0.0,
        checklist=(
            "Record the jockey pump's start and stop pressures",
            "Record how many times it started since the last check",
        ),
        source=_FIRE,
    ),
    # GB 50974: a flow and pressure test of the fire pumps every quarter.
    "fire_pump_quarterly": Template(
        name="Fire pump quarterly flow and pressure test",
        name_zh="消防泵每季度流量和压力测试",
        rrule="FREQ=MONTHLY;INTERVAL=3",
        lead_time=7 * DAY,
        checklist=(
            "Run each fire pump against the test valve",
            "Record flow and pressure and compare them with the duty point",
        ),
        source=_FIRE,
    ),
    # GB 25201: a full test of the fire systems every year.
    "fire_system_yearly": Template(
        name="Fire systems yearly full test",
        name_zh="消防系统年度全面检测",
        rrule="FREQ=YEARLY",
        lead_time=30 * DAY,
        checklist=(
            "Full functional test of the fire systems",
            "Test report from a qualified fire-technical service organisation on file",
        ),
        source=_FIRE,
    ),
}

TemplateName = Literal[
    "elevator_15d",
    "elevator_quarterly",
    "elevator_half_yearly",
    "elevator_yearly",
    "elevator_rescue_drill",
    "elevator_periodic_inspection",
    "fire_pump_weekly",
    "fire_pump_monthly",
    "jockey_pump_daily",
    "fire_pump_quarterly",
    "fire_system_yearly",
]


def _to_datetime(value: Any) -> Any:
    """A date means midnight; a string date too (pydantic would not take one as a datetime)."""
    if isinstance(value, str) and len(value.strip()) == 10:
        value = dt.date.fromisoformat(value.strip())
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


LocalDateTime = Annotated[dt.datetime, BeforeValidator(_to_datetime)]


def _parts(text: str) -> tuple[str, dict[str, str]]:
    """The RRULE value without a leading 'RRULE:', and its NAME=VALUE parts."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if "\n" in body or ":" in body:
        raise ValueError("give only the RRULE value, e.g. FREQ=DAILY;INTERVAL=15 (no DTSTART)")
    parts: dict[str, str] = {}
    for item in filter(None, body.upper().split(";")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"'{item}' is not NAME=VALUE")
        parts[key.strip()] = value.strip()
    return body, parts


def parse_rrule(text: str, dtstart: dt.datetime) -> Recurrence:
    """The rrule of an RRULE string from dtstart; ValueError saying what is wrong."""
    body, parts = _parts(text)
    freq = parts.get("FREQ")
    if freq is None:
        raise ValueError("FREQ is missing, e.g. FREQ=DAILY;INTERVAL=15")
    if freq not in FREQUENCIES:
        raise ValueError(f"FREQ={freq} is not allowed: use one of {', '.join(FREQUENCIES)}")
    if "INTERVAL" in parts and not (parts["INTERVAL"].isdigit() and int(parts["INTERVAL"]) > 0):
        raise ValueError("INTERVAL must be a whole number of at least 1")
    try:
        rule = rrulestr(body, dtstart=dtstart)
    except (ValueError, TypeError) as exc:
        hint = " (write UNTIL in UTC, e.g. UNTIL=20271231T160000Z)" if "UNTIL" in str(exc) else ""
        raise ValueError(f"not a valid RFC 5545 RRULE: {exc}{hint}") from None
    if not isinstance(rule, Recurrence):  # pragma: no cover - multi-line input is refused above
        raise ValueError("give a single RRULE")
    return rule


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Schedule(_Strict):
    """One calendar PM schedule, for every asset its selector matches."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    #: Fills in name, rrule, lead_time and checklist; fields given here win.
    template: TemplateName | None = None
    name: str = ""
    #: The name in Simplified Chinese (a template gives its own).
    name_zh: str | None = None
    #: Which assets: ids, classes, buildings or tags (as for rules). Must name something.
    select: Selector
    #: The first due date, in the site's timezone (a date means midnight).
    dtstart: LocalDateTime
    rrule: str
    #: fixed: due dates follow the calendar. floating: each is counted from when the previous
    #: one was done, and none is opened while the previous is still open.
    mode: Literal["fixed", "floating"] = "fixed"
    #: How long before the due date the work order is opened.
    lead_time: Duration = 1 * DAY
    #: After an outage, how many overdue occurrences per asset are still opened (the latest).
    catch_up: int = Field(default=1, ge=1, le=100)
    checklist: list[str] = Field(default_factory=list)
    priority: Literal["P1", "P2", "P3", "P4"] = "P4"
    description: str = ""
    enabled: bool = True
    #: The work orders' type: 'preventive' maintenance, or an 'inspection' by another body.
    type: Literal["preventive", "inspection"] = "preventive"
    #: A duty the law sets (every template's is): marked on the PM calendar, and judged on
    #: its due date whatever grace the PM-compliance KPI allows ordinary work.
    statutory: bool = False
    #: Hard limit: at most this many days between two completed jobs on an asset (the
    #: elevator_15d template: 15). A job done later than that after the previous one is late.
    max_gap_days: int | None = Field(default=None, ge=1, le=3660)

    @model_validator(mode="before")
    @classmethod
    def _expand_template(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "every" in data or "point" in data:
            raise ValueError(
                "counter-based maintenance (every N run hours or trips) is a meter_interval "
                "rule under rules:, not a maintenance schedule"
            )
        name = data.get("template")
        template = TEMPLATES.get(name) if isinstance(name, str) else None
        if template is None:
            return data
        defaults = template.defaults()
        if "name" in data and "name_zh" not in data:
            defaults.pop("name_zh")  # a name of the site's own: the template's Chinese is not it
        return {**defaults, **data}

    @field_validator("select")
    @classmethod
    def _select_something(cls, value: Selector) -> Selector:
        if not (value.assets or value.asset_class or value.building or value.tags):
            raise ValueError(
                "name assets, asset_class, building or tags: an empty select "
                "would schedule every asset"
            )
        return value

    @field_validator("rrule")
    @classmethod
    def _valid_rrule(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("dtstart")
        if not isinstance(start, dt.datetime):
            start = dt.datetime(2000, 1, 1)
        aware = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
        if parse_rrule(value, aware).after(aware, inc=True) is None:
            raise ValueError("this RRULE never occurs on or after dtstart")
        _, parts = _parts(value)
        by = [k for k in parts if k.startswith("BY")]
        if start.day > 28 and parts["FREQ"] in ("MONTHLY", "YEARLY") and not by:
            raise ValueError(
                f"dtstart on day {start.day} makes this rule skip shorter months; "
                "start on day 1-28, or use BYMONTHDAY=-1 for month ends"
            )
        return value.strip()

    @model_validator(mode="after")
    def _default_name(self) -> Schedule:
        if not self.name:
            self.name = self.id
        return self

    def start(self, tz: ZoneInfo) -> dt.datetime:
        """dtstart as an aware time (a naive dtstart is in the site's timezone)."""
        if self.dtstart.tzinfo is None:
            return self.dtstart.replace(tzinfo=tz)
        return self.dtstart.astimezone(tz)

    def rule(self, tz: ZoneInfo, start: dt.datetime | None = None) -> Recurrence:
        """The recurrence from dtstart (or from ``start``, for floating schedules)."""
        return parse_rrule(self.rrule, start or self.start(tz))


class Maintenance(_Strict):
    """The ``maintenance:`` section of site.yaml."""

    #: How often the generator looks for work orders to open.
    check_every: Annotated[Duration, Field(gt=0)] = 900.0
    schedules: list[Schedule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Maintenance:
        seen: set[str] = set()
        for i, s in enumerate(self.schedules):
            if s.id in seen:
                raise ValueError(f"duplicate schedule id '{s.id}' (schedules[{i}])")
            seen.add(s.id)
        return self

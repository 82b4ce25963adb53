"""Plausible dynamics for the simulated devices, with scripted faults.

Every model is advanced with ``step(t)`` (UNIX seconds) and answers engineering values by point
name. Models only move forward in time, so the same code drives a live simulator and a
generated history. Noise is a deterministic function of time and the site's seed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Mapping
from typing import ClassVar
from zoneinfo import ZoneInfo

from collectors.site import CollectorsSite, Fault, Retrofit
from config.site import DeviceRef

Values = dict[str, float | str | bool]


def wobble(t: float, seed: float, period: float = 300.0) -> float:
    """Smooth pseudo-noise in [-1, 1], a fixed function of time and seed."""
    return (
        0.5 * math.sin(t / period + seed)
        + 0.3 * math.sin(t / (period * 0.37) + 2.1 * seed)
        + 0.2 * math.sin(t / (period * 0.13) + 3.7 * seed)
    )


class Occupancy:
    """0..1 occupancy of an office building by local time: weekdays 08:00-18:00."""

    def __init__(self, tz: str):
        self.tz = ZoneInfo(tz)
        self._cache: tuple[int, float, int] = (-1, 0.0, 0)

    def __call__(self, t: float) -> float:
        minute = int(t // 60)
        if self._cache[0] == minute:
            return self._cache[1]
        local = dt.datetime.fromtimestamp(t, self.tz)
        h = local.hour + local.minute / 60
        day = _smoothstep(7.0, 9.0, h) * (1 - _smoothstep(17.5, 19.5, h))
        occ = day if local.weekday() < 5 else 0.12 * day
        self._cache = (minute, occ, local.toordinal())
        return occ

    def day(self, t: float) -> int:
        """The local date at t, as a proleptic ordinal."""
        self(t)
        return self._cache[2]


class DayToDay:
    """How busy each local day is, as a factor around 1 for a key (a building, a meter): a
    building's meetings, visitors and weather habits move its loads from one day to the next.
    Deterministic in the key, the seed and the day."""

    def __init__(self, key: str, seed: int, spread: float):
        self.key, self.seed, self.spread = key, seed, spread
        self._cache: tuple[int, float] = (-1, 1.0)

    def __call__(self, day: int) -> float:
        if self._cache[0] != day:
            u = random.Random(f"{self.seed}:{self.key}:{day}").gauss(0.0, 1.0)
            self._cache = (day, 1 + self.spread * max(-2.5, min(2.5, u)))
        return self._cache[1]


def _smoothstep(a: float, b: float, x: float) -> float:
    u = min(max((x - a) / (b - a), 0.0), 1.0)
    return u * u * (3 - 2 * u)


class Weather:
    """The site's outdoor air, a deterministic function of time and seed, shared by the weather
    station and the HVAC meters: a made-up Shanghai-like climate (monthly means about 4 °C in
    January and 29 °C in July), a diurnal swing peaking at 15:00 local time, and weather
    systems passing over a few days. Plausible, not a record of any real year."""

    #: Annual mean and half the January-July swing, °C; the coldest day of the year (day 20).
    MEAN_C, SEASON_C, COLDEST_DAY = 16.8, 12.6, 20.0
    #: Half the day-night swing, °C, and the hour of the day's peak.
    DIURNAL_C, PEAK_HOUR = 3.5, 15.0
    #: Weather systems: (period in days, amplitude °C).
    SYNOPTIC = ((3.1, 1.6), (5.7, 1.3), (11.3, 1.0), (23.0, 0.7))
    YEAR_DAYS = 365.2425

    def __init__(self, tz: str, seed: int):
        self.tz = ZoneInfo(tz)
        rng = random.Random(f"{seed}:weather")
        self.phases = [rng.random() * 2 * math.pi for _ in self.SYNOPTIC]
        self._hour: tuple[int, float] = (-1, 0.0)

    def _local_hour(self, t: float) -> float:
        minute = int(t // 60)
        if self._hour[0] != minute:
            local = dt.datetime.fromtimestamp(t, self.tz)
            self._hour = (minute, local.hour + local.minute / 60)
        return self._hour[1] + (t % 60) / 3600

    def season(self, t: float) -> float:
        """-1 in the coldest week of the year, +1 in the warmest."""
        day = t / 86400
        return -math.cos(2 * math.pi * (day - self.COLDEST_DAY) / self.YEAR_DAYS)

    def diurnal(self, t: float) -> float:
        """-1 before dawn, +1 in mid-afternoon."""
        return math.cos(2 * math.pi * (self._local_hour(t) - self.PEAK_HOUR) / 24)

    def synoptic(self, t: float) -> float:
        """The passing weather's departure from the season, °C."""
        day = t / 86400
        return sum(
            a * math.sin(2 * math.pi * day / p + ph)
            for (p, a), ph in zip(self.SYNOPTIC, self.phases, strict=True)
        )

    def temperature(self, t: float) -> float:
        """Outdoor air temperature, °C."""
        return (
            self.MEAN_C
            + self.SEASON_C * self.season(t)
            + self.DIURNAL_C * self.diurnal(t)
            + self.synoptic(t)
        )

    def humidity(self, t: float) -> float:
        """Relative humidity, %: humid summers, drier afternoons and cold spells."""
        rh = 74 + 6 * self.season(t) - 12 * self.diurnal(t) + 2.5 * self.synoptic(t)
        return min(max(rh, 20.0), 99.0)


class FaultClock:
    """Scripted faults of one device, timed from the simulator's start t0."""

    def __init__(self, faults: list[Fault], t0: float):
        self.faults = faults
        self.t0 = t0

    def strength(self, kind: str, t: float) -> float:
        """Size of the fault at t: ramps over 'duration' for bearing_wear, a step otherwise."""
        total = 0.0
        for f in self.faults:
            if f.kind != kind:
                continue
            age = t - self.t0 - f.start
            if age < 0:
                continue
            if kind == "bearing_wear" and f.duration > 0:
                total += f.magnitude * min(age / f.duration, 1.0)
            else:
                total += f.magnitude
        return total

    def silent(self, t: float) -> bool:
        """True while a 'silent' fault keeps the device from answering."""
        return any(
            f.kind == "silent" and 0 <= t - self.t0 - f.start < f.duration for f in self.faults
        )


class DeviceModel:
    """Base: integrates counters between steps and holds test overrides."""

    def __init__(
        self,
        ref: DeviceRef,
        occupancy: Occupancy,
        faults: FaultClock,
        seed: int,
        *,
        weather: Weather | None = None,
        retrofits: list[tuple[float, float]] | None = None,
    ):
        self.ref = ref
        self.occ = occupancy
        self.weather = weather if weather is not None else Weather(occupancy.tz.key, seed)
        #: (UNIX time it took effect, fraction of the load it saves), for the device's load.
        self.retrofits = retrofits or []
        self.faults = faults
        #: The site's seed; `seed` is this device's own phase of it.
        self.site_seed = seed
        self.seed = (seed * 7919 + sum(map(ord, ref.device.id))) % 1000 / 37.0
        self.rng = random.Random(f"{seed}:{ref.device.id}")
        self.t: float | None = None
        self.values: Values = {}
        self.overrides: Values = {}

    def step(self, t: float) -> Values:
        """Advance to t and return every point's engineering value."""
        dt_s = 0.0 if self.t is None else max(0.0, t - self.t)
        if self.t is None or t > self.t:
            self.values = self.compute(t, dt_s)
            self.t = t
        return {**self.values, **self.overrides}

    def compute(self, t: float, dt_s: float) -> Values:  # pragma: no cover - abstract
        """Values at t, given dt_s seconds since the last step."""
        raise NotImplementedError

    #: The counters the device keeps through a power cut or a restart of the simulator, as
    #: point -> (attribute, factor from the point's value to the attribute's).
    COUNTERS: ClassVar[dict[str, tuple[str, float]]] = {}

    def restore(self, counters: Mapping[str, float]) -> None:
        """Carry on from the counters' last values (point -> value), as a real meter keeps its
        registers: a simulator started again, or after a generated history, must not make the
        counters go back, which would read as a reset and count the whole register as used."""
        for point, value in counters.items():
            if point in self.COUNTERS:
                attr, factor = self.COUNTERS[point]
                current = getattr(self, attr)
                setattr(self, attr, type(current)(value * factor))

    def retrofit_factor(self, t: float) -> float:
        """What is left of the load at t after the retrofits that took effect by then."""
        factor = 1.0
        for at, saving in self.retrofits:
            if t >= at:
                factor *= 1 - saving
        return factor


#: Base and peak kW per meter category (MOHURD sub-item), for a 10,000 m² office building.
_LOAD_KW = {
    "01A00": (9.0, 70.0),
    "01B00": (12.0, 150.0),
    "01C00": (8.0, 38.0),
    "01D00": (22.0, 30.0),
}
_UNMETERED = 0.07  # share of the main meter not seen by sub-meters: losses and unmetered loads
#: HVAC (01B00) per 10,000 m²: fans and pumps while occupied (kW), and kW per kelvin of outdoor
#: air above the cooling or below the heating balance point (°C); outside office hours the
#: plant keeps a tenth of the weather load (night set-back, server rooms, early start).
_HVAC_FANS_KW = 35.0
_COOL_KW_PER_K, _COOL_BALANCE_C = 7.0, 18.0
_HEAT_KW_PER_K, _HEAT_BALANCE_C = 5.0, 14.0
_HVAC_OFF_HOURS = 0.1
#: Day-to-day spread (one standard deviation) of the occupied part of the load: the whole
#: building's (shared by its meters) and each meter's own.
_BUILDING_DAY_SPREAD, _METER_DAY_SPREAD = 0.04, 0.05


class EnergyMeter(DeviceModel):
    """SDM630: a sub-meter follows its category's daily curve; a main meter sums its children."""

    COUNTERS: ClassVar[dict[str, tuple[str, float]]] = {
        "import_energy": ("import_kwh", 1.0),
        "total_energy": ("import_kwh", 1.0),
    }

    children: list[EnergyMeter]

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.children = []
        self.import_kwh = 20_000 + self.rng.random() * 200_000
        self.area = self.ref.asset.building.floor_area_m2 / 10_000
        self.hvac = self.ref.asset.asset.sub_item == "01B00"
        building, seed = self.ref.asset.building.id, self.site_seed
        self.building_day = DayToDay(building, seed, _BUILDING_DAY_SPREAD)
        self.meter_day = DayToDay(self.ref.device.id, seed, _METER_DAY_SPREAD)
        base, peak = _LOAD_KW.get(self.ref.asset.asset.sub_item or "", (0.0, 0.0))
        self.base_kw, self.peak_kw = base * self.area, peak * self.area

    def power_kw(self, t: float) -> float:
        """Instantaneous total power in kW."""
        if self.children:
            kw = sum(c.power_kw(t) for c in self.children) * (1 + _UNMETERED)
            return kw * self.retrofit_factor(t) if self.retrofits else kw
        day = self.occ.day(t)
        occ = self.occ(t) * self.building_day(day) * self.meter_day(day)
        if self.hvac:
            temp = self.weather.temperature(t)
            need = _COOL_KW_PER_K * max(temp - _COOL_BALANCE_C, 0.0) + _HEAT_KW_PER_K * max(
                _HEAT_BALANCE_C - temp, 0.0
            )
            weather = need * (occ + _HVAC_OFF_HOURS * (1 - occ))
            kw = self.base_kw + (_HVAC_FANS_KW * occ + weather) * self.area
        else:
            kw = self.base_kw + (self.peak_kw - self.base_kw) * occ
        kw = max(0.0, kw * (1 + 0.05 * wobble(t, self.seed)))
        return kw * self.retrofit_factor(t) if self.retrofits else kw

    def compute(self, t: float, dt_s: float) -> Values:
        p = self.power_kw(t) * 1000
        self.import_kwh += p / 1000 * dt_s / 3600
        pf = 0.92 + 0.03 * wobble(t, self.seed + 1, 900)
        v = [230.0 + 2.0 * wobble(t, self.seed + k, 120) for k in range(3)]
        share = [0.34, 0.33, 0.33]
        vals: Values = {}
        for i in range(3):
            pw = p * share[i]
            vals[f"voltage_l{i + 1}"] = v[i]
            vals[f"power_l{i + 1}"] = pw
            vals[f"current_l{i + 1}"] = pw / (v[i] * pf)
        s = p / pf
        vals.update(
            total_power=p,
            apparent_power=s,
            reactive_power=math.sqrt(max(s * s - p * p, 0.0)),
            power_factor=pf,
            frequency=50.0 + 0.02 * wobble(t, self.seed + 5, 60),
            import_energy=self.import_kwh,
            export_energy=0.0,
            demand=p * (1 + 0.02 * wobble(t, self.seed + 6, 1800)),
            total_energy=self.import_kwh,
        )
        return vals


class Pump(DeviceModel):
    """A booster pump on an ABB drive: current follows speed cubed; bearing wear adds current."""

    COUNTERS: ClassVar[dict[str, tuple[str, float]]] = {"run_hours": ("run_hours", 1.0)}

    RATED_RPM = 1480.0
    RATED_A = 28.0
    RATED_KW = 15.0

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.run_hours = 30_000 + self.rng.random() * 40_000

    def compute(self, t: float, dt_s: float) -> Values:
        n = 0.70 + 0.20 * self.occ(t) + 0.03 * wobble(t, self.seed, 200)
        speed = self.RATED_RPM * n
        wear = self.faults.strength("bearing_wear", t)
        load = n**3
        current = self.RATED_A * (0.25 + 0.75 * load) + wear
        self.run_hours += dt_s / 3600
        return {
            "control_word": 0x047F,
            "reference_1": round(20000 * n),
            "status_word": 0x0637,
            "running": True,
            "actual_1": round(20000 * n),
            "actual_2": round(10000 * load),
            "motor_speed": speed,
            "output_frequency": 50.0 * n,
            "motor_current": current,
            "motor_torque": 100.0 * n * n,
            "dc_voltage": 540.0 + 3 * wobble(t, self.seed + 2, 60),
            "output_power": self.RATED_KW * load + 0.4 * wear,
            "fault_code": 0,
            "run_hours": self.run_hours,
            "motor_temperature": 45.0 + 30.0 * load + 1.5 * wear,
        }


class Elevator(DeviceModel):
    """A passenger lift: trips and door cycles by occupancy; door faults when scripted."""

    COUNTERS: ClassVar[dict[str, tuple[str, float]]] = {
        "trip_counter": ("trips", 1.0),
        "door_cycle_counter": ("door_cycles", 1.0),
        "run_hours": ("run_tenths", 10.0),
        "door_fault_counter": ("door_faults", 1.0),
    }

    FLOORS = (-1, 12)

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.trips = 400_000 + int(self.rng.random() * 300_000)
        self.door_cycles = self.trips * 2
        self.run_tenths = 180_000 + int(self.rng.random() * 50_000)
        self.door_faults = int(self.rng.random() * 40)
        self.floor = 1
        self.last_trip_t = 0.0
        self.last_fault_t = -1e12
        self.run_carry = 0.0

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        k, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def compute(self, t: float, dt_s: float) -> Values:
        trips_per_s = (1 / 45) * self.occ(t) + 1 / 1800
        n = self._poisson(trips_per_s * dt_s)
        if n:
            self.trips += n
            self.door_cycles += n
            self.floor = self.rng.randint(*self.FLOORS) or 1
            self.last_trip_t = t
            self.run_carry += n * 18 / 360  # ~18 s of running per trip, in tenths of an hour
            whole = int(self.run_carry)
            self.run_tenths += whole
            self.run_carry -= whole
        faults = self._poisson(self.faults.strength("door_fault", t) / 3600 * dt_s)
        if faults:
            self.door_faults += faults
            self.door_cycles += faults  # a fault re-opens the door
            self.last_fault_t = t
        since = t - self.last_trip_t
        moving = since < 12
        return {
            "floor": self.floor,
            "direction": (1 if self.floor > 1 else 2) if moving else 0,
            "door_state": 2 if 12 <= since < 18 else 0,
            "fault_code": 21 if t - self.last_fault_t < 30 else 0,
            "trip_counter": self.trips,
            "door_cycle_counter": self.door_cycles,
            "run_hours": self.run_tenths / 10,
            "door_fault_counter": self.door_faults,
            "in_service": 1,
        }


class WaterMeter(DeviceModel):
    """A water meter: office-hours demand over a small night minimum; leaks add flow.

    A meter with sub-meters (the compound's main over a meter per building) reads the sum of
    theirs plus a small unmetered share; a sub-meter takes its building's share of the demand,
    by occupants."""

    COUNTERS: ClassVar[dict[str, tuple[str, float]]] = {"net_total": ("total_m3", 1.0)}

    PIPE_AREA_M2 = math.pi * 0.04**2  # DN80
    #: Share of the main not seen by the sub-meters (watering, the pump house, losses).
    UNMETERED = 0.04

    children: list[WaterMeter]

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.total_m3 = 150_000 + self.rng.random() * 50_000
        self.children = []
        #: This meter's share of the compound's demand (set by build_models for sub-meters).
        self.share = 1.0

    def flow_m3h(self, t: float) -> float:
        """Instantaneous flow, m³/h."""
        if self.children:
            flow = sum(c.flow_m3h(t) for c in self.children) * (1 + self.UNMETERED)
        else:
            occ = self.occ(t)
            flow = 0.35 + 9.0 * occ + (0.08 + 0.6 * occ) * wobble(t, self.seed, 180)
            flow = max(0.0, flow) * self.share
        return flow * self.retrofit_factor(t) + self.faults.strength("leak", t)

    def compute(self, t: float, dt_s: float) -> Values:
        flow = self.flow_m3h(t)
        self.total_m3 += flow * dt_s / 3600
        return {
            "flow": flow,
            "flow_velocity": flow / 3600 / self.PIPE_AREA_M2,
            "error_bits": 0,
            "net_total": math.floor(self.total_m3),
        }


class FirePump(DeviceModel):
    """A fire pump on standby: stopped, in automatic, both supplies present; its controller
    runs the weekly simulated automatic start (GB 25201) on Mondays at 09:00 for 10 minutes."""

    COUNTERS: ClassVar[dict[str, tuple[str, float]]] = {
        "start_counter": ("starts", 1.0),
        "run_hours": ("run_hours", 1.0),
    }

    RATED_A = 78.0
    TEST_WEEKDAY, TEST_HOUR, TEST_SECONDS = 0, 9, 600

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.starts = 900 + int(self.rng.random() * 100)
        self.run_hours = 180.0 + self.rng.random() * 40
        self.tz = self.occ.tz
        self.was_running = False

    def testing(self, t: float) -> bool:
        """True during the weekly test run."""
        local = dt.datetime.fromtimestamp(t, self.tz)
        start = local.replace(hour=self.TEST_HOUR, minute=0, second=0, microsecond=0)
        return (
            local.weekday() == self.TEST_WEEKDAY
            and 0 <= (local - start).total_seconds() < self.TEST_SECONDS
        )

    def compute(self, t: float, dt_s: float) -> Values:
        running = self.testing(t)
        if running and not self.was_running:
            self.starts += 1
        if running:
            self.run_hours += dt_s / 3600
        self.was_running = running
        standby = 0.70 + 0.01 * wobble(t, self.seed, 900)
        return {
            "running": int(running),
            "mode": 1,
            "start_cause": 3 if running else 0,
            "outlet_pressure": (0.95 + 0.01 * wobble(t, self.seed + 1, 30)) if running else standby,
            "motor_current": (self.RATED_A * (0.92 + 0.02 * wobble(t, self.seed + 2, 20)))
            if running
            else 0.0,
            "main_power": 1,
            "standby_power": 1,
            "fault_code": 0,
            "start_counter": self.starts,
            "run_hours": self.run_hours,
        }


class JockeyPump(DeviceModel):
    """The jockey pump keeping the fire main between its start and stop pressures: the main
    loses pressure slowly through its valves, the pump starts at the start pressure and stops
    at the stop pressure. The cycle is integrated as a fraction, so any step size gives the
    same counts; a 'leak' fault makes the main lose pressure (1 + magnitude) times faster."""

    COUNTERS: ClassVar[dict[str, tuple[str, float]]] = {
        "start_counter": ("cycles", 1.0),
        "run_hours": ("run_hours", 1.0),
    }

    START_MPA, STOP_MPA = 0.70, 0.80
    #: Minutes the main takes to fall from stop to start pressure, and the pump to refill it.
    LEAK_MIN, PUMP_MIN = 42.0, 1.5
    RATED_A = 7.5

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cycles = 24_000 + self.rng.random() * 2_000
        self.run_hours = 600.0 + self.rng.random() * 50

    def compute(self, t: float, dt_s: float) -> Values:
        leak = self.LEAK_MIN / (1 + self.faults.strength("leak", t))
        period = (leak + self.PUMP_MIN) * 60
        self.cycles += dt_s / period
        self.run_hours += dt_s * self.PUMP_MIN / (leak + self.PUMP_MIN) / 3600
        frac = self.cycles % 1.0
        falling = leak / (leak + self.PUMP_MIN)
        span = self.STOP_MPA - self.START_MPA
        if frac < falling:
            running, pressure = False, self.STOP_MPA - span * frac / falling
        else:
            running, pressure = True, self.START_MPA + span * (frac - falling) / (1 - falling)
        return {
            "running": int(running),
            "system_pressure": pressure + 0.002 * wobble(t, self.seed, 40),
            "start_pressure": self.START_MPA,
            "stop_pressure": self.STOP_MPA,
            # A start is counted when the pump starts, part-way through a cycle.
            "start_counter": int(self.cycles + 1 - falling),
            "run_hours": self.run_hours,
            "motor_current": self.RATED_A * (0.95 + 0.03 * wobble(t, self.seed + 1, 20))
            if running
            else 0.0,
        }


class WeatherStation(DeviceModel):
    """An outdoor weather station: the site's air temperature and relative humidity."""

    def compute(self, t: float, dt_s: float) -> Values:
        return {
            "outdoor_temperature": self.weather.temperature(t) + 0.05 * wobble(t, self.seed, 60),
            "relative_humidity": self.weather.humidity(t),
            "status": 0,
        }


MODELS: dict[str, Callable[..., DeviceModel]] = {
    "energy_meter": EnergyMeter,
    "pump": Pump,
    "elevator": Elevator,
    "water_meter": WaterMeter,
    "fire_pump": FirePump,
    "jockey_pump": JockeyPump,
    "weather_station": WeatherStation,
}


def retrofit_times(retrofits: list[Retrofit], tz: str) -> dict[str, list[tuple[float, float]]]:
    """Per device, (UNIX time, saving) of its retrofits; a date takes effect at local midnight."""
    zone = ZoneInfo(tz)
    out: dict[str, list[tuple[float, float]]] = {}
    for r in retrofits:
        at = r.at
        if not isinstance(at, dt.datetime):
            at = dt.datetime.combine(at, dt.time(), zone)
        elif at.tzinfo is None:
            at = at.replace(tzinfo=zone)
        out.setdefault(r.device, []).append((at.timestamp(), r.saving))
    return out


def build_models(
    site: CollectorsSite,
    t0: float,
    *,
    counters: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, DeviceModel]:
    """One model per device of the site, meters wired into their meter tree; `counters` (device
    id -> point -> last value) carries the devices' counters on from where they were."""
    tz = site.doc.site.timezone
    occ = Occupancy(tz)
    seed = site.doc.simulation.seed
    weather = Weather(tz, seed)
    retrofits = retrofit_times(site.doc.simulation.retrofits, tz)
    models: dict[str, DeviceModel] = {}
    for ref in site.devices():
        kind = ref.profile.simulator
        if kind not in MODELS:
            raise ValueError(f"profile {ref.profile.profile} has no simulator model")
        faults = FaultClock(
            [f for f in site.doc.simulation.faults if f.device == ref.device.id], t0
        )
        models[ref.device.id] = MODELS[kind](
            ref, occ, faults, seed, weather=weather, retrofits=retrofits.get(ref.device.id)
        )
    energy = {m.ref.asset.asset.id: m for m in models.values() if isinstance(m, EnergyMeter)}
    for e in energy.values():
        parent = e.ref.asset.asset.parent_meter
        if parent and parent in energy:
            energy[parent].children.append(e)
    water = {m.ref.asset.asset.id: m for m in models.values() if isinstance(m, WaterMeter)}
    for w in water.values():
        parent = w.ref.asset.asset.parent_meter
        if parent and parent in water:
            water[parent].children.append(w)
    _share_water_by_occupants([m for m in models.values() if isinstance(m, WaterMeter)])
    for device, values in (counters or {}).items():
        if device in models:
            models[device].restore(values)
    return models


def _share_water_by_occupants(meters: list[WaterMeter]) -> None:
    """Each sub-meter of a water main takes its building's share of the occupants."""
    for main in meters:
        if not main.children:
            continue
        people = [c.ref.asset.building.occupants for c in main.children]
        total = sum(people)
        for c, n in zip(main.children, people, strict=True):
            c.share = n / total if total else 1 / len(main.children)

"""Plausible dynamics for the simulated devices, with scripted faults.

Every model is advanced with ``step(t)`` (UNIX seconds) and answers engineering values by point
name. Models only move forward in time, so the same code drives a live simulator and a
generated history. Noise is a deterministic function of time and the site's seed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from zoneinfo import ZoneInfo

from collectors.site import CollectorsSite, Fault
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
        self._cache: tuple[int, float] = (-1, 0.0)

    def __call__(self, t: float) -> float:
        minute = int(t // 60)
        if self._cache[0] == minute:
            return self._cache[1]
        local = dt.datetime.fromtimestamp(t, self.tz)
        h = local.hour + local.minute / 60
        day = _smoothstep(7.0, 9.0, h) * (1 - _smoothstep(17.5, 19.5, h))
        occ = day if local.weekday() < 5 else 0.12 * day
        self._cache = (minute, occ)
        return occ


def _smoothstep(a: float, b: float, x: float) -> float:
    u = min(max((x - a) / (b - a), 0.0), 1.0)
    return u * u * (3 - 2 * u)


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

    def __init__(self, ref: DeviceRef, occupancy: Occupancy, faults: FaultClock, seed: int):
        self.ref = ref
        self.occ = occupancy
        self.faults = faults
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


#: Base and peak kW per meter category (MOHURD sub-item), for a 10,000 m² office building.
_LOAD_KW = {
    "01A00": (9.0, 70.0),
    "01B00": (12.0, 150.0),
    "01C00": (8.0, 38.0),
    "01D00": (22.0, 30.0),
}
_UNMETERED = 0.07  # share of the main meter not seen by sub-meters: losses and unmetered loads


class EnergyMeter(DeviceModel):
    """SDM630: a sub-meter follows its category's daily curve; a main meter sums its children."""

    children: list[EnergyMeter]

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.children = []
        self.import_kwh = 20_000 + self.rng.random() * 200_000
        area = self.ref.asset.building.floor_area_m2 / 10_000
        base, peak = _LOAD_KW.get(self.ref.asset.asset.sub_item or "", (0.0, 0.0))
        self.base_kw, self.peak_kw = base * area, peak * area

    def power_kw(self, t: float) -> float:
        """Instantaneous total power in kW."""
        if self.children:
            return sum(c.power_kw(t) for c in self.children) * (1 + _UNMETERED)
        kw = self.base_kw + (self.peak_kw - self.base_kw) * self.occ(t)
        return max(0.0, kw * (1 + 0.05 * wobble(t, self.seed)))

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
    """The incoming water main: office-hours demand over a small night minimum; leaks add flow."""

    PIPE_AREA_M2 = math.pi * 0.04**2  # DN80

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.total_m3 = 150_000 + self.rng.random() * 50_000

    def compute(self, t: float, dt_s: float) -> Values:
        occ = self.occ(t)
        flow = 0.35 + 9.0 * occ + (0.08 + 0.6 * occ) * wobble(t, self.seed, 180)
        flow = max(0.0, flow) + self.faults.strength("leak", t)
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


MODELS: dict[str, Callable[..., DeviceModel]] = {
    "energy_meter": EnergyMeter,
    "pump": Pump,
    "elevator": Elevator,
    "water_meter": WaterMeter,
    "fire_pump": FirePump,
    "jockey_pump": JockeyPump,
}


def build_models(site: CollectorsSite, t0: float) -> dict[str, DeviceModel]:
    """One model per device of the site, meters wired into their meter tree."""
    occ = Occupancy(site.doc.site.timezone)
    seed = site.doc.simulation.seed
    models: dict[str, DeviceModel] = {}
    for ref in site.devices():
        kind = ref.profile.simulator
        if kind not in MODELS:
            raise ValueError(f"profile {ref.profile.profile} has no simulator model")
        faults = FaultClock(
            [f for f in site.doc.simulation.faults if f.device == ref.device.id], t0
        )
        models[ref.device.id] = MODELS[kind](ref, occ, faults, seed)
    by_asset = {m.ref.asset.asset.id: m for m in models.values() if isinstance(m, EnergyMeter)}
    for m in by_asset.values():
        parent = m.ref.asset.asset.parent_meter
        if parent and parent in by_asset:
            by_asset[parent].children.append(m)
    return models

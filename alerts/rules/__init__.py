"""Alert rule types. Each type is one module; the union below gathers them.

Adding a rule type means adding a module here and one member to ``RuleConfig``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from alerts.rules.base import Context, Evaluator, RuleBase, Selector, Severity, Verdict
from alerts.rules.baseline_deviation import BaselineDeviationRule
from alerts.rules.counter_increase import CounterIncreaseRule
from alerts.rules.meter_interval import MeterIntervalRule
from alerts.rules.night_flow import NightFlowRule
from alerts.rules.rate_of_change import RateOfChangeRule
from alerts.rules.stale import StaleRule
from alerts.rules.threshold import ThresholdRule

RuleConfig = Annotated[
    ThresholdRule
    | RateOfChangeRule
    | StaleRule
    | CounterIncreaseRule
    | BaselineDeviationRule
    | NightFlowRule
    | MeterIntervalRule,
    Field(discriminator="type"),
]

__all__ = [
    "BaselineDeviationRule",
    "Context",
    "CounterIncreaseRule",
    "Evaluator",
    "MeterIntervalRule",
    "NightFlowRule",
    "RateOfChangeRule",
    "RuleBase",
    "RuleConfig",
    "Selector",
    "Severity",
    "StaleRule",
    "ThresholdRule",
    "Verdict",
]

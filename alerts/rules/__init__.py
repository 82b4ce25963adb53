"""Alert rule types. Each type is one module; the union below gathers them.

Adding a rule type means adding a module here and one member to ``RuleConfig``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from alerts.rules.base import RuleBase, Selector, Severity
from alerts.rules.threshold import ThresholdRule

RuleConfig = Annotated[ThresholdRule, Field(discriminator="type")]

__all__ = ["RuleBase", "RuleConfig", "Selector", "Severity", "ThresholdRule"]

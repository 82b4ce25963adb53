"""The work orders' sections of site.yaml: ``sla``, ``contractors``, ``maintenance``,
``calendar`` (official holiday arrangements), ``codes`` (cause and resolution codes) and
``assignment`` (default assignees), with their cross-section checks."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from alerts.config import AlertsSiteFile
from config.site import Located, SiteConfig
from workorders.orders.codes import Codes, code_problems
from workorders.orders.defaults import DefaultAssignee, assignment_problems
from workorders.pm.models import Maintenance
from workorders.sla.config import (
    CalendarSection,
    ContractorList,
    SlaSection,
    calendar_problems,
    unknown_contractors,
)


class WorkordersSiteFile(AlertsSiteFile):
    """site.yaml with the work orders' sections."""

    maintenance: Maintenance = Field(default_factory=Maintenance)
    sla: SlaSection = Field(default_factory=SlaSection)
    contractors: ContractorList = Field(default_factory=list)
    #: Official holiday arrangements loaded by the site (workorders.sla.config.CalendarSection).
    calendar: CalendarSection = Field(default_factory=CalendarSection)
    #: Cause and resolution codes (workorders.orders.codes).
    codes: Codes = Field(default_factory=Codes)
    #: Default assignees by building and asset class (workorders.orders.defaults).
    assignment: list[DefaultAssignee] = Field(default_factory=list)

    @classmethod
    def site_problems(cls, site: SiteConfig[Any]) -> list[Located]:
        """SLA policies name known contractors; holiday arrangements are consistent; codes are
        unique in their list; default assignees name known buildings, classes and firms."""
        return [
            *unknown_contractors(site.doc.sla, site.doc.contractors),
            *calendar_problems(site.doc.calendar),
            *code_problems(site.doc.codes),
            *assignment_problems(site),
        ]


#: A site as the work-order side sees it.
WorkordersSite = SiteConfig[WorkordersSiteFile]

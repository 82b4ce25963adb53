"""The work orders' sections of site.yaml: ``sla``, ``contractors``, ``maintenance`` and
``calendar`` (official holiday arrangements), with their cross-section checks."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from alerts.config import AlertsSiteFile
from config.site import Located, SiteConfig
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

    @classmethod
    def site_problems(cls, site: SiteConfig[Any]) -> list[Located]:
        """SLA policies name known contractors; holiday arrangements are consistent."""
        return [
            *unknown_contractors(site.doc.sla, site.doc.contractors),
            *calendar_problems(site.doc.calendar),
        ]


#: A site as the work-order side sees it.
WorkordersSite = SiteConfig[WorkordersSiteFile]

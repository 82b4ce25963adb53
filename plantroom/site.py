"""The whole site.yaml the program knows: the topology (config) with every domain's sections,
assembled here at the root."""

from __future__ import annotations

from pathlib import Path

from analytics.site import AnalyticsSiteFile
from config.site import SiteConfig
from config.site import load_site as load_document

#: Every section of site.yaml; the rightmost domain's document extends those to its left.
SiteDocument = AnalyticsSiteFile
#: A loaded site with every section.
Site = SiteConfig[SiteDocument]


def load_site(path: Path | str) -> Site:
    """Load site.yaml with every domain's sections and checks; ConfigError names file:line."""
    return load_document(path, SiteDocument)

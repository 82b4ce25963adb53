"""Energy statistics, ageing evidence and maintenance KPIs, computed from the readings and
the work orders (issues 16 and 17)."""

"""The engineer's overview: open work, SLA clocks, alerts, PM and the collectors' health at once,
each figure with the list behind it (issue 15)."""

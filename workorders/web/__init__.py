"""The tablet UI: server-rendered pages, every asset served by the app (no CDN)."""

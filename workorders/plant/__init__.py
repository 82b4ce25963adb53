"""Plant facts for engineers: an asset's devices and points, its age against its expected
life, and its repair cost against its replacement cost (issue 15)."""

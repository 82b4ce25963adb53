"""The simulated building: device dynamics (models.py) served over real Modbus (server.py)."""

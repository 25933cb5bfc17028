"""A Drove controller simulator for tests, the demo and Epoch's embedded mode.

It serves Drove's task API (``/apis/v1/...``) faithfully enough that Epoch's Drove client cannot
tell it from a real cluster, plus a control interface under ``/_sim`` to script outcomes, inject
faults and switch leadership. It needs no Django::

    with DroveSimulator(SimSettings(step_s=0.02), controllers=3) as simulator:
        print(simulator.urls)  # one base URL per simulated controller, on free ports

A task's outcome and run time come from its env: ``DROVE_SIM_OUTCOME`` (success | fail |
pull-failure | start-failure | vanish | lost | never-scheduled), ``DROVE_SIM_EXIT_CODE``,
``DROVE_SIM_DURATION`` and ``DROVE_SIM_START_DELAY`` (duration strings such as ``"2s"``).
"""

from drove_client.simulator.faults import Fault
from drove_client.simulator.server import DroveSimulator
from drove_client.simulator.settings import SimSettings, SimUser

__all__ = ["DroveSimulator", "Fault", "SimSettings", "SimUser"]

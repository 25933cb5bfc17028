"""``python -m drove_client.simulator --port 7000``: the simulator without Django."""

import sys

from drove_client.simulator.cli import main

sys.exit(main())

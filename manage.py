#!/usr/bin/env python
"""Django's command-line utility for Epoch."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epoch_site.settings")
    from django.core.management import execute_from_command_line

    from epoch_site.config import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as error:
        sys.stderr.write(f"epoch: configuration error: {error}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Gunicorn settings for Epoch: the API/UI port and the admin port from Epoch's configuration.

Loaded automatically by ``python -m gunicorn epoch_site.wsgi:application`` from the working
directory. A bad configuration stops here with one line naming the key, before any worker starts.
"""

import os
import sys

from epoch_site.config import ConfigError, load_config

try:
    _config = load_config()
except ConfigError as error:
    sys.stderr.write(f"epoch: configuration error: {error}\n")
    sys.exit(1)

_host = os.environ.get("EPOCH_BIND_HOST", "0.0.0.0")  # noqa: S104 - a container serves all interfaces
bind = [f"{_host}:{_config.server.app_port}", f"{_host}:{_config.server.admin_port}"]
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("EPOCH_WEB_THREADS", "8"))
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = "info"
proc_name = "epoch-web"

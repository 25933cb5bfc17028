"""WSGI entry point: ``python -m gunicorn epoch_site.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epoch_site.settings")

application = get_wsgi_application()

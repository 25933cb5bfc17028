# Epoch server image. The entry point runs the web server (ports 8080 and 8081) and the
# leader-only scheduler, honours the original image's environment variables, and stops both
# cleanly on SIGTERM (exit status 143).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    EPOCH_DATA_DIR=/var/lib/epoch

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# The key given here exists only for this build step; nodes use EPOCH_SECRET_KEY or derive one.
RUN EPOCH_SECRET_KEY=collectstatic-only EPOCH_DATA_DIR=/tmp/build \
    python manage.py collectstatic --noinput -v 0 \
 && rm -rf /tmp/build \
 && useradd --system --home /var/lib/epoch epoch \
 && mkdir -p /var/lib/epoch && chown epoch /var/lib/epoch /app/staticfiles

USER epoch
EXPOSE 8080 8081
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "epoch_site.launcher"]

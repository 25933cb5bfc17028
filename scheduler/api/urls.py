from django.urls import path

from scheduler.api.views import CronPreviewView

urlpatterns = [path("cron/preview", CronPreviewView.as_view(), name="cron-preview")]

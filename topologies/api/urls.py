from django.urls import path

from topologies.api import views

TOPOLOGY = "topologies/<str:topology_id>"
RUN = f"{TOPOLOGY}/runs/<str:run_id>"

urlpatterns = [
    path("topologies", views.TopologiesView.as_view(), name="topologies"),
    path(TOPOLOGY, views.TopologyView.as_view(), name="topology"),
    path(f"{TOPOLOGY}/run", views.RunNowView.as_view(), name="topology-run"),
    path(f"{TOPOLOGY}/pause", views.PauseView.as_view(), name="topology-pause"),
    path(f"{TOPOLOGY}/unpause", views.UnpauseView.as_view(), name="topology-unpause"),
    path(f"{TOPOLOGY}/runs", views.RunsView.as_view(), name="runs"),
    path(RUN, views.RunView.as_view(), name="run"),
    path(f"{RUN}/tasks/<str:task_name>/kill", views.KillTaskView.as_view(), name="task-kill"),
    path(f"{RUN}/tasks/<str:task_name>/log", views.TaskLogView.as_view(), name="task-log"),
]

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from epoch_site import health
from epoch_site.api.housekeeping import LeaderView
from topologies import views as topology_views
from topologies.ui.posts import CreateTopologyPost, UpdateTopologyPost

handler404 = "epoch_site.views.not_found"
handler500 = "epoch_site.views.server_error"

urlpatterns = [
    path("healthcheck", health.healthcheck, name="healthcheck"),
    path("ping", health.ping, name="ping"),
    path("login", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("apis/v1/", include("topologies.api.urls")),
    path("apis/v1/", include("scheduler.api.urls")),
    path("apis/housekeeping/v1/leader", LeaderView.as_view(), name="leader"),
    path("apis/v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path("apis/v1/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("topologies/create", CreateTopologyPost.as_view(), name="ui-create"),
    path("topologies/<str:topology_id>/update", UpdateTopologyPost.as_view(), name="ui-update"),
    path(
        "topologies/<str:topology_id>", topology_views.TopologyView.as_view(), name="topology-page"
    ),
    path("", topology_views.HomeView.as_view(), name="home"),
]

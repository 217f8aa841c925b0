from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from plantops.api.v1 import api as api_v1
from plantops.pipeline import views as pipeline_views
from plantops.telemetry import views as telemetry_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The top bar's language switcher (a POST, then back where it came from, with a cookie).
    path("language/", set_language, name="set_language"),
    # The scripts' words in the page's language (static/plantops/*.js: gettext, ngettext);
    # locale/ holds the catalogs, so no app's own are sent.
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(domain="djangojs", packages=["plantops.core"]),
        name="javascript-catalog",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("metrics", telemetry_views.metrics_text, name="metrics"),
    path("pipeline/", pipeline_views.pipeline_health, name="pipeline"),
    path("", include("plantops.notify.urls")),
    path("", include("plantops.alerts.urls")),
    path("", include("plantops.oee.urls")),
    path("", include("plantops.health.urls")),
    path("", include("plantops.maintenance.urls")),
    path("", include("plantops.floor.urls")),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from plantops.api.v1 import api as api_v1
from plantops.core import js_catalog
from plantops.pipeline import views as pipeline_views
from plantops.telemetry import views as telemetry_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The top bar's language switcher (a POST, then back where it came from, with a cookie).
    path("language/", set_language, name="set_language"),
    # The scripts' words in the page's language (static/plantops/*.js: gettext, ngettext),
    # at an address with the catalog's digest, kept by browsers for a year.
    path(
        "jsi18n/<str:language>/<str:version>.js",
        js_catalog.javascript_catalog,
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

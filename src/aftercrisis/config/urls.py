from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from aftercrisis.accounts.views import home, sites
from aftercrisis.api.api import api
from aftercrisis.config.health import healthz

urlpatterns = [
    path("", home, name="home"),
    # Lazy: the hashed name is known only once the static files are collected, after the URLs load.
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("nhsuk/assets/images/favicon.ico")),
        name="favicon",
    ),
    path("healthz", healthz, name="healthz"),
    path("account/", include("aftercrisis.accounts.urls")),
    # Not under account/: a role that may know an arm gets a token only after the second factor.
    path("api-tokens/", include("aftercrisis.api.urls")),
    path("api/v1/", api.urls),
    path("participants/", include("aftercrisis.participants.urls")),
    path("recruitment/", include("aftercrisis.recruitment.urls")),
    path("randomisation/", include("aftercrisis.randomisation.urls")),
    path("worklist/", include("aftercrisis.followup.urls")),
    path("outcomes/", include("aftercrisis.outcomes.urls")),
    path("economics/", include("aftercrisis.economics.urls")),
    path("queries/", include("aftercrisis.queries.urls")),
    path("caseload/", include("aftercrisis.intervention.urls")),
    path("peer-support/", include("aftercrisis.intervention.manage_urls")),
    path("workbook/", include("aftercrisis.workbook.urls")),
    path("reports/", include("aftercrisis.reporting.urls")),
    path("sites/", sites, name="sites"),
]

handler400 = "aftercrisis.config.errors.bad_request"
handler403 = "aftercrisis.config.errors.forbidden"
handler404 = "aftercrisis.config.errors.not_found"

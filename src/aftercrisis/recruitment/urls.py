from django.urls import path

from aftercrisis.recruitment import views

app_name = "recruitment"
urlpatterns = [
    path("", views.by_site, name="by_site"),
    path("referrals/", views.referrals, name="referrals"),
    path("screening-log/", views.screening_log, name="screening_log"),
    path("<str:trial_id>/screen/", views.screen, name="screen"),
    path("<str:trial_id>/consent/", views.consent, name="consent"),
    path("<str:trial_id>/decline/", views.decline, name="decline"),
    path("<str:trial_id>/withdraw/", views.withdraw, name="withdraw"),
]

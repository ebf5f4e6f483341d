from django.urls import path

from aftercrisis.recruitment import views

app_name = "recruitment"
urlpatterns = [
    path("", views.by_site, name="by_site"),
    path("referrals/", views.referrals, name="referrals"),
]

from django.urls import path

from aftercrisis.intervention import views

app_name = "intervention"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("<str:trial_id>/", views.participant, name="participant"),
    path("<str:trial_id>/sessions/new/", views.new_session, name="new_session"),
    path("<str:trial_id>/contacts/new/", views.new_contact_attempt, name="new_contact_attempt"),
]

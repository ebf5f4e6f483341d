from django.urls import path

from aftercrisis.participants import audit_views, views
from aftercrisis.randomisation.views import randomise

app_name = "participants"
urlpatterns = [
    path("", views.participant_list, name="list"),
    path("audit/", audit_views.audit, name="audit"),
    path("<str:trial_id>/", views.participant_detail, name="detail"),
    path("<str:trial_id>/edit/", views.edit_research_data, name="edit"),
    path("<str:trial_id>/identity/", views.edit_identity, name="edit_identity"),
    path("<str:trial_id>/history/", views.participant_history, name="history"),
    path("<str:trial_id>/randomise/", randomise, name="randomise"),
]

from django.urls import path

from aftercrisis.intervention import manage_views as views

app_name = "peer_support"
urlpatterns = [
    path("dispatch/", views.dispatch, name="dispatch"),
    path("dispatch/queue/", views.queue_post, name="queue_post"),
    path("dispatch/print-batch.pdf", views.print_batch, name="print_batch"),
    path("dispatch/posted/", views.posted, name="posted"),
    path("dispatch/<str:trial_id>/", views.participant_dispatch, name="participant_dispatch"),
    path("supervision/", views.supervision, name="supervision"),
    path("fidelity/", views.fidelity, name="fidelity"),
    path("fidelity.csv", views.fidelity_csv, name="fidelity_csv"),
    path("risk-concerns/", views.risk_concerns, name="risk_concerns"),
    path("risk-concerns/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge_risk"),
]

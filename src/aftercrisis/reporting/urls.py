from django.urls import path

from aftercrisis.reporting import export_views, views

app_name = "reporting"
urlpatterns = [
    path("", views.index, name="index"),
    path("research-export.csv", views.export, name="export"),
    path("lock/", views.database_lock, name="lock"),
    path("lock/outcome-not-known/", views.lock_outcomes, name="lock_outcomes"),
    path("lock/visits-in-window/", views.lock_visits, name="lock_visits"),
    path("lock/unlock/", views.unlock_request, name="unlock_request"),
    path("lock/unlock/decision/", views.unlock_decision, name="unlock_decision"),
    path("trial-report/", views.trial_report, name="trial_report"),
    path("trial-report/<int:pk>.<str:kind>", views.snapshot, name="snapshot"),
    path("analysis-dataset.csv", views.analysis_dataset_csv, name="analysis_dataset"),
    path("forms/", export_views.form_exports, name="form_exports"),
    path("forms/bundle.zip", export_views.form_bundle, name="form_bundle"),
    path("forms/<str:form>.csv", export_views.form_csv, name="form_csv"),
]

from django.urls import path

from aftercrisis.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("safety/", views.safety, name="safety"),
    path("safety/<int:pk>/review/", views.sae_review, name="sae_review"),
    path("episodes/", views.episode_list, name="episode_list"),
    path("episodes/import/", views.import_episodes, name="import"),
    path("episodes/reconcile/", views.reconcile, name="reconcile"),
    path("<str:trial_id>/episodes/", views.episodes, name="episodes"),
    path("<str:trial_id>/death/", views.death, name="death"),
    path("<str:trial_id>/sae/", views.sae_new, name="sae_new"),
]

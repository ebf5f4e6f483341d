from django.urls import path

from aftercrisis.followup import views

app_name = "followup"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("questionnaires/", views.my_questionnaires, name="my_questionnaires"),
    path("questionnaires/open/<str:token>/", views.open_questionnaires, name="open_questionnaires"),
    path("<str:trial_id>/<str:visit>/", views.visit, name="visit"),
    path("<str:trial_id>/<str:visit>/<str:instrument>/", views.questionnaire, name="questionnaire"),
]

from django.urls import path

from aftercrisis.randomisation import views

app_name = "randomisation"
urlpatterns = [
    path("backup/", views.backup, name="backup"),
    path("allocation-lists/", views.lists, name="lists"),
    path("allocation-lists.csv", views.export_list, name="export_list"),
    path("unblinding/", views.unblinding, name="unblinding"),
    path("unblinding/mine/", views.my_unblinding, name="my_unblinding"),
    path("<str:trial_id>/unblinding/", views.unblinding_request, name="unblinding_request"),
    path("<str:trial_id>/correct/", views.correct, name="correct"),
]

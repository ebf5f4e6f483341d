from django.urls import path

from aftercrisis.followup import views

app_name = "followup"
urlpatterns = [path("", views.worklist, name="worklist")]

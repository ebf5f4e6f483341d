from django.urls import path

from aftercrisis.intervention import views

app_name = "intervention"
urlpatterns = [path("", views.caseload, name="caseload")]

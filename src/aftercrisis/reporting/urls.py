from django.urls import path

from aftercrisis.reporting import views

app_name = "reporting"
urlpatterns = [
    path("", views.index, name="index"),
    path("research-export.csv", views.export, name="export"),
]

from django.urls import path

from aftercrisis.economics import views

app_name = "economics"
urlpatterns = [
    path("<str:trial_id>/resource-use/", views.resource_use, name="resource_use"),
]

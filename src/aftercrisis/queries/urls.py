from django.urls import path

from aftercrisis.queries import views

app_name = "queries"
urlpatterns = [
    path("", views.query_list, name="list"),
    path("new/", views.new, name="new"),
    path("run/", views.run, name="run"),
    path("<int:pk>/", views.detail, name="detail"),
]

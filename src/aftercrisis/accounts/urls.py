from django.urls import path

from aftercrisis.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("role/", views.choose_role, name="choose_role"),
    path("two-factor/", views.two_factor, name="two_factor"),
]

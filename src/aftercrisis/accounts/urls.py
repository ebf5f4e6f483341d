from django.urls import path

from aftercrisis.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("role/", views.choose_role, name="choose_role"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set_password"),
    path("staff/new/", views.staff_new, name="staff_new"),
    path("staff/<int:pk>/", views.staff_member, name="staff_member"),
    path("sites/<str:code>/duty-contact/", views.duty_contact, name="duty_contact"),
]

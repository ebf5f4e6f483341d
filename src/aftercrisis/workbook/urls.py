from django.urls import path

from aftercrisis.workbook import views

app_name = "workbook"
urlpatterns = [
    # The participant's own pages, reached only through a link and its code.
    path("", views.mine, name="mine"),
    path("open/<str:token>/", views.open_workbook, name="open"),
    path("section/<str:section>/", views.section, name="section"),
    path("my-workbook.pdf", views.my_pdf, name="my_pdf"),
    # Staff.
    path("blank.pdf", views.blank_pdf, name="blank_pdf"),
    path("participants/<str:trial_id>/workbook.pdf", views.participant_pdf, name="participant_pdf"),
    path("participants/<str:trial_id>/link/", views.issue_link, name="issue_link"),
]

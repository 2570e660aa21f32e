from django.urls import path

from arrears.web import views

app_name = "web"
urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("portfolio/chart/", views.portfolio_chart, name="portfolio_chart"),
    path("today/", views.today_page, name="today"),
    path("search/", views.search, name="search"),
    path("signin/", views.signin, name="signin"),
    path("signout/", views.signout, name="signout"),
    path("accounts/<str:account_id>/", views.account_page, name="ledger"),
    path("accounts/<str:account_id>/notes/", views.account_note, name="account_note"),
    path("accounts/<str:account_id>/holds/", views.account_hold, name="account_hold"),
    path(
        "accounts/<str:account_id>/holds/<int:hold_id>/release/",
        views.account_release,
        name="account_release",
    ),
]

from django.urls import path

from accounts import views

urlpatterns = [
    path("team/", views.team_page, name="team"),
    path("team/invite/", views.invite, name="team_invite"),
    path("team/invitations/<int:pk>/revoke/", views.revoke_invitation, name="team_invitation_revoke"),
    path("team/members/<int:pk>/role/", views.change_role, name="team_change_role"),
    path("team/members/<int:pk>/remove/", views.remove_member, name="team_remove_member"),
    path("activity/", views.activity, name="activity"),
    path("invitations/<str:token>/", views.accept_invitation, name="invitation_accept"),
]

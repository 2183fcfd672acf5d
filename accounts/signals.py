"""Sign out everywhere: a sign-out ends every session of the account.

Sites under the platform domain share one session, but a tenant on its own domain
(signed in over OIDC) holds a session of its own; both are recorded here at sign-in
so that signing out on any site ends them all.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from core.sessions import end_sessions

from .models import AccountSession


@receiver(user_logged_in)
def remember_session(sender, request, user, **kwargs):
    if request is not None and request.session.session_key:
        AccountSession.objects.get_or_create(user=user, session_key=request.session.session_key)


@receiver(user_logged_out)
def end_every_session(sender, request, user, **kwargs):
    if user is None:
        return
    end_sessions(list(AccountSession.objects.filter(user=user).values_list("session_key", flat=True)))
    AccountSession.objects.filter(user=user).delete()

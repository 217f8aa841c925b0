"""The screens of notifications: where a notification's links land, and a user's own
subscriptions. Thin: the services decide, check roles and record."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from plantops.alerts import selectors as alert_selectors
from plantops.alerts.models import Alert
from plantops.core.actions import attempt
from plantops.core.refusals import Refused
from plantops.notify import selectors, services
from plantops.notify.forms import SubscriptionForm
from plantops.notify.models import Subscription


@login_required
@permission_required("alerts.view_alert", raise_exception=True)
def alert_link(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Where a notification's "Open the alert" lands (after login): the alert's inbox entry."""
    alert = get_object_or_404(Alert, pk=alert_id)
    return redirect(f"{reverse('alerts-inbox')}?focus={alert.pk}#alert-{alert.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    """A notification's signed acknowledge link: shows the alert and asks for a note; the
    acknowledgement is made by the logged-in user, once."""
    try:
        notification = services.ack_link_target(token, user=request.user)
    except Refused as refusal:
        return render(request, "notify/acknowledge.html", {"refusal": str(refusal)}, status=410)
    if request.method == "POST":
        note = request.POST.get("note", "")[:500]
        done = attempt(
            request,
            lambda: services.acknowledge_by_link(token, user=request.user, note=note),
            gettext("Acknowledged."),
        )
        if done:
            return redirect("notify:alert", alert_id=notification.alert_id)
    (alert,) = alert_selectors.labelled([notification.alert])
    return render(
        request, "notify/acknowledge.html", {"notification": notification, "alert": alert}
    )


@login_required
@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest) -> HttpResponse:
    """A user's own subscriptions: add, change, remove; and their latest notifications."""
    own = Subscription.objects.filter(user=request.user).prefetch_related(
        "lines", "areas", "channels"
    )
    editing = None
    if "edit" in request.GET:
        editing = get_object_or_404(own, pk=request.GET["edit"])
    if request.method == "POST":
        if "delete" in request.POST:
            get_object_or_404(own, pk=request.POST["delete"]).delete()
            return redirect("notify:subscriptions")
        if request.POST.get("id"):
            editing = get_object_or_404(own, pk=request.POST["id"])
        form = SubscriptionForm(request.POST, instance=editing, user=request.user)
        if form.is_valid():
            form.save()
            return redirect("notify:subscriptions")
    else:
        form = SubscriptionForm(instance=editing, user=request.user)
    context = {
        "subscriptions": [_described(sub) for sub in own],
        "form": form,
        "editing": editing,
        "recent": selectors.notifications_of(request.user, limit=20),
    }
    return render(request, "notify/subscriptions.html", context)


def _described(sub: Subscription) -> dict[str, object]:
    """A subscription with what it covers and how it comes, in words, for its row."""
    lines = [line.name for line in sub.lines.all()]
    areas = [gettext("%(area)s (area)") % {"area": area.name} for area in sub.areas.all()]
    channels = [channel.name for channel in sub.channels.all()]
    return {
        "sub": sub,
        "where": ", ".join(lines + areas) or gettext("every line"),
        "channels": ", ".join(channels) or gettext("no channel"),
    }

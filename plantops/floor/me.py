"""My settings (/me/): what a signed-in user chooses for themselves: the zone their times are
shown in, and the language (Django's language cookie, through `set_language`). Thin: parse,
call the service, render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy

from plantops.assets.selectors import plant_zone
from plantops.core import clock, services
from plantops.core.models import Preferences


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy(
            "Pages, charts, exports' pages and API answers show your times in this zone."
        ),
    )

    def __init__(self, *args: Any, plant_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plant = gettext("The plant's: %(zone)s") % {"zone": plant_label}
        self.fields["time_zone"].choices = [("", plant)] + [(n, n) for n in clock.zone_names()]


@login_required
def my_settings(request: HttpRequest) -> HttpResponse:
    """Show the user's own settings; a POST stores them and comes back here."""
    plant_label = clock.describe(plant_zone(request.user))
    chosen = Preferences.objects.filter(user=request.user).values_list("time_zone", flat=True)
    form = PreferencesForm(
        request.POST or None, initial={"time_zone": chosen.first() or ""}, plant_label=plant_label
    )
    if request.method == "POST" and form.is_valid():
        services.preferences_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, gettext("Saved."))
        return redirect("floor:my_settings")
    # Where the language buttons lead back to: the page the clock was tapped on, if it is ours.
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = request.path
    return render(
        request,
        "floor/my_settings.html",
        {"form": form, "plant_label": plant_label, "next": back},
    )

"""The default reminder of new tasks: a card on the notification preferences page
(`kehu.notifications.sections`) that saves to `activities:reminder_defaults`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.choices import Action
from kehu.core.permissions import can

from . import preferences
from .forms import ReminderDefaultsForm
from .models import Task


def _form(request: HttpRequest, data: Any = None) -> ReminderDefaultsForm:
    defaults = preferences.reminder_defaults(user=request.user)
    initial = {"before_minutes": defaults.before_minutes, "all_day_at": defaults.all_day_at}
    return ReminderDefaultsForm(data, initial=initial, current=defaults.before_minutes)


def _card(request: HttpRequest, form: ReminderDefaultsForm, *, saved: bool = False) -> str:
    return render_to_string(
        "activities/_reminder_defaults_card.html", {"form": form, "saved": saved}, request=request
    )


def reminder_defaults_card(request: HttpRequest) -> str:
    """The card's HTML for the preferences page; nothing for people who have no tasks."""
    if not can(request.user, Task, Action.VIEW):
        return ""
    return _card(request, _form(request))


@login_required
@require_POST
def reminder_defaults(request: HttpRequest) -> HttpResponse:
    """Save the card (htmx: on every change, answering the card again; without JS: back to the page)."""
    form = _form(request, request.POST)
    saved = False
    if form.is_valid():
        try:
            preferences.reminder_defaults_set(
                user=request.user,
                before_minutes=form.cleaned_data["before_minutes"],
                all_day_at=form.cleaned_data["all_day_at"],
            )
            saved = True
        except preferences.ReminderPreferenceError as exc:
            for name, errors in exc.fields.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
    if not request.htmx:  # type: ignore[attr-defined]
        if saved:
            messages.success(request, _("Your default reminder was saved."))
        else:
            errors = [str(e) for errs in form.errors.values() for e in errs]
            messages.error(request, " ".join(errors) or _("The default reminder was not saved."))
        return redirect("notifications:preferences")
    if saved:
        form = _form(request)  # the stored values, as the page shows them next time
    return HttpResponse(_card(request, form, saved=saved))

"""Setting up the plant model from a script: creating and changing sites, areas, lines,
assets, signals and shifts, by an admin (API v1's writes, e.g. a spreadsheet import).

The admin's own rules apply: the model's validation (`full_clean`: field limits, unique slugs,
a known time zone, an ordered expected range), with each error under its field's name, and the
admin permissions of the model (`assets.add_line`, `assets.change_line`, …), which only admins
hold. Nothing is deleted here: a delete takes every reading and event below the object with
it, so it stays in the admin, which lists what would go before it does.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from plantops.core.refusals import require_permission

REFUSAL = "Only an admin sets up the plant model."

PlantObject = TypeVar("PlantObject", bound=Model)


def plant_object_create(
    *, user: Any, model: type[PlantObject], fields: dict[str, Any]
) -> PlantObject:
    """Create one object of the plant model from `fields` (parents by `<parent>_id`); raises
    ValidationError naming the fields that are wrong, Refused unless the user is an admin."""
    require_permission(user, f"assets.add_{model._meta.model_name}", REFUSAL)
    return _saved(model(**fields))


def plant_object_update(*, user: Any, instance: PlantObject, fields: dict[str, Any]) -> PlantObject:
    """Change the given `fields` of one object of the plant model, leaving the others."""
    require_permission(user, f"assets.change_{instance._meta.model_name}", REFUSAL)
    for name, value in fields.items():
        setattr(instance, name, value)
    return _saved(instance)


def _saved(instance: PlantObject) -> PlantObject:
    try:
        instance.full_clean()
    except ValidationError as error:
        # A parent is given by its id (`line_id`): name the error the way it was asked.
        parents = {f.name: f.attname for f in instance._meta.concrete_fields if f.is_relation}
        raise ValidationError(
            {parents.get(name, name): messages for name, messages in error.message_dict.items()}
        ) from None
    with transaction.atomic():
        instance.save()
    return instance

"""`manage.py mcp`: the PlantOps MCP server over stdio, for an assistant that starts it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from plantops.api import mcp
from plantops.core.auth import TokenRefused, token_user


class Command(BaseCommand):
    help = (
        "Speak the Model Context Protocol over stdin and stdout, acting as the user of the API "
        "token in PLANTOPS_API_TOKEN, within its scope. Stops when stdin closes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        token = settings.PLANTOPS_API_TOKEN.strip()
        if not token:
            raise CommandError(
                "Set PLANTOPS_API_TOKEN to an API token (admin → API tokens): the MCP server "
                "acts as its user."
            )
        header = f"Bearer {token}"
        try:
            user = token_user(header, "GET")
        except TokenRefused as refused:
            raise CommandError(f"PLANTOPS_API_TOKEN was refused: {refused}.") from None
        # stdout carries the protocol: anything for people goes to stderr.
        self.stderr.write(f"PlantOps MCP server on stdio, as {user.get_username()}.")
        mcp.serve_stdio(header)

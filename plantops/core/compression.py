"""Pages and their JSON gzipped on the way out, as WhiteNoise does for the static files.

An asset page carries its last hour of readings (a few hundred kB of digits), the OEE and KPI
pages their figures: gzip makes them a fraction of that on a plant's Wi-Fi. Only whole HTML,
JSON and script responses (the scripts' words, `/jsi18n/`) are compressed. A streamed one (exports, the MCP server's event stream) is left
alone: gzip holds back what it has not filled a block with, which would stall a stream.
Django's GZipMiddleware pads each response with random bytes against BREACH.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSED_TYPES = ("text/html", "application/json", "text/javascript")


class PageCompressionMiddleware(GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        """Gzip a whole HTML or JSON response for a client that accepts it; else pass it on."""
        if response.streaming or not response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)

"""Pages and JSON gzipped for a client that accepts it; streams and other types left alone."""

from __future__ import annotations

import gzip

import pytest
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.test import RequestFactory

from plantops.core.compression import PageCompressionMiddleware

BODY = "<p>" + "reading 4.523 mm/s " * 100 + "</p>"


def through(response: HttpResponse, accept: str = "gzip, deflate, br") -> HttpResponse:
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)
    return PageCompressionMiddleware(lambda _: response)(request)


def test_a_page_is_gzipped_for_a_client_that_accepts_it():
    response = through(HttpResponse(BODY))
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content).decode() == BODY
    assert "Accept-Encoding" in response["Vary"]


def test_json_is_gzipped_too():
    response = through(JsonResponse({"points": [[1, 4.5]] * 200}))
    assert response["Content-Encoding"] == "gzip"


def test_nothing_is_gzipped_for_a_client_that_does_not_ask():
    assert not through(HttpResponse(BODY), accept="").has_header("Content-Encoding")


@pytest.mark.parametrize(
    "response",
    [
        StreamingHttpResponse(iter([BODY.encode()]), content_type="text/csv"),
        StreamingHttpResponse(iter([b"data: {}\n\n"]), content_type="text/event-stream"),
        HttpResponse(BODY, content_type="text/csv"),
    ],
    ids=["a streamed export", "an event stream", "a CSV"],
)
def test_streams_and_other_types_pass_as_they_are(response):
    assert not through(response).has_header("Content-Encoding")

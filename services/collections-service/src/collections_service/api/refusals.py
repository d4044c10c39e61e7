"""The one place collections refusal kinds become HTTP statuses.

Routers use `RefusalRoute`, so a `Refusal` raised anywhere below a route
leaves with the status its kind maps to; the platform's refusal handler then
writes the problem+json naming the field. Swapping to a platform-wide
mapping later means changing this module only.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from collections_service.domain.refusals import Refusal
from receivables_platform.web.refusals import HTTP_STATUS

STATUS = HTTP_STATUS
"""The platform's one mapping of refusal kinds to statuses."""


def with_status(refusal: Refusal) -> Refusal:
    refusal.status = STATUS[refusal.kind]
    return refusal


class RefusalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def mapped(request: Request) -> Response:
            try:
                return await handler(request)
            except Refusal as refusal:
                raise with_status(refusal) from None

        return mapped

"""The RFC 3161 time-stamping endpoint (``POST /tsa``) over a
:class:`~qcertlib.signing.timestamps.TsaResponder`.

:func:`tsa_routes` returns Starlette routes; :func:`create_app` adds them when
:class:`~qcertlib.services.app.ServiceConfig` has a ``tsa`` responder. To mount
the endpoint in another Starlette/FastAPI app::

    app.router.routes.extend(tsa_routes(responder))        # or
    Mount("/pki", routes=tsa_routes(responder))

Requests are ``application/timestamp-query`` bodies (RFC 3161, 3.4); answers are
``application/timestamp-reply``. Malformed queries get a ``rejection`` answer
with ``badDataFormat`` (HTTP 200, as the protocol carries the status).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qcertlib.signing.timestamps import TsaResponder


def tsa_for_authority(authority: Any) -> TsaResponder:
    """The TSA of a :class:`~qcertlib.issuance.ca.CertificateAuthority` directory: its
    ``tsa.pem`` / ``tsa.key`` signer, chain (issuing CA, root), policy
    :data:`~qcertlib.signing.timestamps.DEFAULT_TSA_POLICY`."""
    from qcertlib.signing.timestamps import DEFAULT_TSA_POLICY, TsaResponder

    return TsaResponder(
        authority.load_signer_key("tsa"),
        authority.tsa_certificate,
        authority.chain,
        policy=DEFAULT_TSA_POLICY,
    )


__all__ = ["tsa_for_authority", "tsa_routes"]


def tsa_routes(responder: TsaResponder, path: str = "/tsa") -> list[Any]:
    """Starlette routes serving ``responder`` at ``path`` (POST only; GET answers 405)."""
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from qcertlib.signing.timestamps import TIMESTAMP_REPLY_TYPE

    async def timestamp(request: Request) -> Response:
        if request.method != "POST":
            return PlainTextResponse(
                "POST an application/timestamp-query body\n",
                status_code=405,
                headers={"Allow": "POST"},
            )
        body = await request.body()
        return Response(responder.respond(body), media_type=TIMESTAMP_REPLY_TYPE)

    return [Route(path, timestamp, methods=["GET", "POST"])]

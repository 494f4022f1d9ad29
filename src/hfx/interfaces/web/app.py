"""The ASGI application behind ``hfx serve``: a thin layer of routes over the library.

Every request needs the access token (``?token=``, ``Authorization: Bearer``, or the
``hfx_token`` cookie the page gets when it is opened with the token).  Files are read only
from the folders named on the command line, uploads are limited in size and JSON nesting,
and an error is answered with its status and ``{"error": one line}``.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hfx.errors import HfxError
from hfx.interfaces.web import compute
from hfx.interfaces.web.documents import Document, one_line, read_document
from hfx.interfaces.web.errors import NotFound, TooLarge, WebError
from hfx.interfaces.web.files import ServedFolders
from hfx.interfaces.web.jobs import FINAL, JobManager

__all__ = ["Limits", "TokenGate", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = MappingProxyType({"app.js": "text/javascript", "app.css": "text/css"})
COOKIE = "hfx_token"
FIGURE_TYPES = MappingProxyType({"png": "image/png", "svg": "image/svg+xml"})


@dataclass(frozen=True)
class Limits:
    """What one request may send: upload bytes and JSON nesting depth."""

    upload_bytes: int = 200 * 1024 * 1024
    json_depth: int = 64


@dataclass
class _State:
    token: str
    folders: ServedFolders
    limits: Limits
    jobs: JobManager
    items: dict[str, Document] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    plot_lock: threading.Lock = field(default_factory=threading.Lock)
    figures: dict[tuple[str, ...], bytes] = field(default_factory=dict)  # items' figures

    def add(self, document: Document) -> dict[str, Any]:
        with self.lock:
            item_id = f"i{next(self.ids)}"
            self.items[item_id] = document
        return _item(item_id, document)

    def item(self, item_id: str | None, what: str = "item") -> Document:
        with self.lock:
            document = self.items.get(str(item_id))
        if document is None:
            raise NotFound(f"no {what} {item_id!r} loaded")
        return document


def _item(item_id: str, document: Document) -> dict[str, Any]:
    return {
        "id": item_id,
        "kind": document.kind,
        "name": document.name,
        "summary": document.summary,
    }


# --- the token -----------------------------------------------------------------------------------


class TokenGate:
    """ASGI middleware: 401 without a token, 403 with a wrong one; a right ``?token=`` on a
    page sets the cookie so that the page's own requests carry it."""

    def __init__(self, app: Any, token: str):
        self.app = app
        self.token = token

    def _presented(self, scope: dict[str, Any]) -> tuple[str | None, bool]:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            return query["token"][0], True
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        if "cookie" in headers:
            cookie = SimpleCookie()
            try:
                cookie.load(headers["cookie"])
            except Exception:
                return None, False
            if COOKIE in cookie:
                return cookie[COOKIE].value, False
        return None, False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token, in_query = self._presented(scope)
        if token is None or not hmac.compare_digest(token.encode(), self.token.encode()):
            status = 401 if token is None else 403
            message = (
                "this hfx server needs its access token: open the URL that `hfx serve` printed"
                if token is None
                else "wrong access token"
            )
            response = JSONResponse({"error": message}, status_code=status)
            await response(scope, receive, send)
            return
        if not in_query:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# --- reading requests ----------------------------------------------------------------------------


async def _body(request: Request, limit: int) -> bytes:
    """The request's body, refused with 413 past ``limit`` bytes (before reading it when the
    client says its length)."""
    declared = request.headers.get("content-length")
    too_large = (
        f"upload larger than the limit of {limit / 2**20:.0f} MB (hfx serve --max-upload-mb)"
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request) -> dict[str, Any]:
    data = await _body(request, 1024 * 1024)
    try:
        body = json.loads(data or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise WebError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise WebError("the request body must be a JSON object")
    return body


# --- routes --------------------------------------------------------------------------------------


def _state(request: Request) -> _State:
    state: _State = request.app.state.hfx
    return state


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        raise NotFound(f"no file {name!r}")
    return FileResponse(STATIC / name, media_type=STATIC_FILES[name])


async def list_folders(request: Request) -> Response:
    listing = await run_in_threadpool(_state(request).folders.listing)
    return JSONResponse({"folders": listing})


async def open_file(request: Request) -> Response:
    state = _state(request)
    body = await _json_body(request)
    path = state.folders.resolve(body.get("folder"), body.get("path"))
    if path.stat().st_size > state.limits.upload_bytes:
        raise TooLarge(f"{body.get('path')}: larger than the limit of the server")
    document = await run_in_threadpool(
        lambda: read_document(path.read_bytes(), path.name, max_depth=state.limits.json_depth)
    )
    return JSONResponse(state.add(document))


async def upload(request: Request) -> Response:
    state = _state(request)
    data = await _body(request, state.limits.upload_bytes)
    name = request.query_params.get("name", "upload.json")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        request._body = data  # (parse the body already read and size-checked)
        form = await request.form(max_files=1, max_fields=10)
        part = form.get("file")
        if part is None or isinstance(part, str):
            raise WebError("no file in the upload (a form field named 'file')")
        name = Path(part.filename or name).name
        data = await part.read()
        await form.close()
    document = await run_in_threadpool(read_document, data, name, max_depth=state.limits.json_depth)
    return JSONResponse(state.add(document))


async def items(request: Request) -> Response:
    state = _state(request)
    with state.lock:
        listed = [_item(i, d) for i, d in state.items.items()]
    return JSONResponse({"items": listed})


async def item(request: Request) -> Response:
    item_id = request.path_params["item"]
    return JSONResponse(_item(item_id, _state(request).item(item_id)))


def _figure_response(
    state: _State, draw: Any, fmt: str, key: tuple[str, ...] | None = None
) -> Response:
    """The figure ``draw()`` makes, as ``fmt``; kept under ``key`` (an item never changes)."""
    if fmt not in FIGURE_TYPES:
        raise NotFound(f"figures are .png or .svg, not .{fmt}")
    with state.plot_lock:  # matplotlib's style context is process-wide
        data = state.figures.get(key) if key is not None else None
        if data is None:
            data = compute.figure_bytes(draw(), fmt)
            if key is not None:
                state.figures[key] = data
    return Response(data, media_type=FIGURE_TYPES[fmt])


async def item_plot(request: Request) -> Response:
    state = _state(request)
    document = state.item(request.path_params["item"])
    what, fmt = request.path_params["what"], request.path_params["fmt"]
    patch_id = request.query_params.get("patch")
    patch = state.item(patch_id, "patch") if patch_id else None
    point = request.query_params.get("point")
    key = (request.path_params["item"], what, fmt, patch_id or "", point or "")
    return await run_in_threadpool(
        _figure_response,
        state,
        lambda: compute.item_figure(document, what, patch, point),
        fmt,
        key,
    )


async def create_job(request: Request) -> Response:
    state = _state(request)
    body = await _json_body(request)
    kind = str(body.get("kind"))
    workspace = state.item(body.get("workspace"), "workspace")
    patch = state.item(body["patch"], "patch") if body.get("patch") else None
    point = body.get("point") or None
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise WebError("'options' must be a JSON object")
    work, plots = compute.work_for(kind, state.jobs, workspace, patch, point, options)
    shown = ", ".join(f"{key} = {value}" for key, value in options.items())
    label = f"{kind}{f' ({shown})' if shown else ''} on {workspace.name}"
    if patch is not None:
        label += f" + {patch.name}" + (f" [{point}]" if point and kind != "scan" else "")
    job = state.jobs.submit(kind, label, work, plots=plots, options=options)
    return JSONResponse(job.to_dict())


async def jobs(request: Request) -> Response:
    return JSONResponse({"jobs": [j.to_dict() for j in _state(request).jobs.all()]})


async def job(request: Request) -> Response:
    return JSONResponse(_state(request).jobs.get(request.path_params["job"]).to_dict())


async def cancel_job(request: Request) -> Response:
    return JSONResponse(_state(request).jobs.cancel(request.path_params["job"]).to_dict())


async def job_events(request: Request) -> Response:
    """Server-sent events: the job as JSON on every change, until a final state."""
    found = _state(request).jobs.get(request.path_params["job"])

    async def stream() -> Any:
        seen = -1
        while True:
            if found.version != seen:
                seen = found.version
                yield f"data: {json.dumps(found.to_dict())}\n\n"
                if found.state in FINAL:
                    return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.1)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


async def job_result(request: Request) -> Response:
    found = _state(request).jobs.get(request.path_params["job"])
    if found.state != "done":
        raise WebError(f"job {found.id} is {found.state}: no result")
    return Response(
        json.dumps(found.result, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{found.id}-{found.kind}.json"'},
    )


async def job_plot(request: Request) -> Response:
    state = _state(request)
    found = state.jobs.get(request.path_params["job"])
    name, fmt = request.path_params["name"], request.path_params["fmt"]
    return await run_in_threadpool(
        _figure_response, state, lambda: compute.job_figure(found, name), fmt
    )


# --- errors --------------------------------------------------------------------------------------


async def _web_error(request: Request, exc: Exception) -> Response:
    status = exc.status if isinstance(exc, WebError) else 400
    return JSONResponse({"error": one_line(exc)}, status_code=status)


async def _unexpected(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"internal error: {one_line(exc)}"}, status_code=500)


def _warm_imports() -> None:
    """Import what jobs need now, in one thread: jobs then never race each other through
    first imports (the compiled kernels are loaded where they are cached; where not, their
    background build starts and jobs run on NumPy until it ends)."""
    import importlib

    for name in ("hfx.infer", "hfx.diagnostics", "hfx.interfaces.scan", "hfx.optimize.engines"):
        importlib.import_module(name)
    from hfx.optimize import kernel

    if kernel.ready():
        kernel.compiled()
    try:
        importlib.import_module("hfx.interfaces.plots")
        importlib.import_module("matplotlib.backends.backend_agg")
    except ImportError:  # (no plots without the 'plot' extra; the page says so)
        pass


def create_app(
    folders: Sequence[str | Path] = (),
    *,
    token: str,
    limits: Limits | None = None,
    job_workers: int = 2,
) -> Starlette:
    """The web application serving ``folders`` (read-only) behind ``token``."""
    _warm_imports()
    routes = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/api/folders", list_folders),
        Route("/api/open", open_file, methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/items", items),
        Route("/api/items/{item}", item),
        Route("/api/items/{item}/plots/{what:path}.{fmt}", item_plot),
        Route("/api/jobs", jobs),
        Route("/api/jobs", create_job, methods=["POST"]),
        Route("/api/jobs/{job}", job),
        Route("/api/jobs/{job}", cancel_job, methods=["DELETE"]),
        Route("/api/jobs/{job}/events", job_events),
        Route("/api/jobs/{job}/result.json", job_result),
        Route("/api/jobs/{job}/plots/{name}.{fmt}", job_plot),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HfxError: _web_error, Exception: _unexpected},
    )
    app.state.hfx = _State(
        token=token,
        folders=ServedFolders(folders),
        limits=limits or Limits(),
        jobs=JobManager(job_workers),
    )
    app.add_middleware(TokenGate, token=token)
    return app

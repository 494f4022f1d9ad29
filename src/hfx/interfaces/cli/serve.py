"""``hfx serve``: the local web page (extra ``web``), behind a random access token."""

from __future__ import annotations

import click

from hfx.interfaces.cli._common import CliFailure, warn

__all__ = ["COMMANDS", "serve"]

_LOCAL = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, file_okay=False), metavar="[FOLDER ...]"
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port (0: a free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but this machine's loopback is warned about.",
)
@click.option(
    "--open", "open_browser", is_flag=True, default=False, help="Open the page in a browser."
)
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(0, min_open=True),
    default=200.0,
    show_default=True,
    help="Largest upload accepted.",
)
@click.option(
    "--max-json-depth",
    type=click.IntRange(min=4),
    default=64,
    show_default=True,
    help="Deepest JSON nesting accepted in a file.",
)
def serve(
    paths: tuple[str, ...],
    port: int,
    host: str,
    open_browser: bool,
    max_upload_mb: float,
    max_json_depth: int,
) -> None:
    """Serve the hfx web page: inspect workspaces, compute (CLs, limits, fits, rankings, grid
    scans) and plot, in the browser.

    FOLDERs are offered in the page's file picker (read-only; nothing outside them is ever
    read).  The page's URL, printed on stdout, carries a random access token: requests
    without it are refused.  Ctrl-C stops the server.
    """
    import secrets
    import socket

    try:
        import uvicorn

        from hfx.interfaces.web import Limits, create_app
    except ImportError:
        raise CliFailure("hfx serve needs the 'web' extra: pip install 'hfx[web]'") from None

    if host not in _LOCAL:
        warn(
            f"listening on {host}: anyone who can reach this machine and learns the token can "
            "use this server (and read the folders it serves)"
        )
    token = secrets.token_urlsafe(24)
    app = create_app(
        paths,
        token=token,
        limits=Limits(upload_bytes=int(max_upload_mb * 2**20), json_depth=max_json_depth),
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CliFailure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    url = f"http://{shown}:{bound}/?token={token}"
    click.echo(url)
    click.echo("hfx: serving; open the URL above (Ctrl-C stops the server)", err=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        app.state.hfx.jobs.shutdown()
        sock.close()


COMMANDS = (serve,)

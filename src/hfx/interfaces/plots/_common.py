"""What every plot shares: importing matplotlib (extra ``plot``), an optional mplhep style
applied only inside a context, and atomic saving."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hfx.errors import HfxError, MissingExtraError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PathArg", "figure", "save_figure", "style"]

PathArg = str | os.PathLike[str]


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("plots need matplotlib: pip install 'hfx[plot]'") from None
    return matplotlib


@contextlib.contextmanager
def style() -> Iterator[None]:
    """mplhep's ATLAS style where mplhep is installed, plain matplotlib otherwise; global
    rcParams are left as they were."""
    mpl = _matplotlib()
    params: dict[str, Any] = {"font.size": 11, "axes.titlesize": 11, "legend.fontsize": 9}
    try:
        import mplhep

        # its layout (ticks, labels, legend) without its fonts, which few machines have
        atlas = {
            k: v for k, v in mplhep.style.ATLAS.items() if not k.startswith(("font.", "mathtext."))
        }
        params = {**atlas, **params}
    except ImportError:
        pass
    with mpl.rc_context(params):
        yield


def figure(width: float, height: float, **kwargs: Any) -> Figure:
    """A Figure bound to no GUI (Agg canvas)."""
    _matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), **kwargs)


def save_figure(fig: Figure, path: PathArg | None, *, dpi: int = 150) -> None:
    """Save ``fig`` to ``path`` (format from the suffix: png, pdf, svg, …) so that the file is
    complete or absent: drawn to a temporary file beside it, then renamed over it.  The
    folder must exist."""
    if path is None:
        return
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise HfxError(f"cannot write the plot: folder {str(directory)!r} does not exist")
    fmt = target.suffix.lstrip(".").lower() or "png"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                fig.savefig(out, format=fmt, dpi=dpi, bbox_inches="tight")
            except ValueError as err:  # an unknown format
                raise HfxError(f"cannot write the plot {str(target)!r}: {err}") from None
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; a plot is an ordinary file
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask

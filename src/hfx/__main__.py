"""``python -m hfx``: the same as the ``hfx`` command."""

from hfx.interfaces.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="hfx")

"""``python -m hfx``: the same as the ``hfx`` command."""

from hfx.interfaces.cli.entry import main

if __name__ == "__main__":
    main(prog_name="hfx")

"""Readers and writers of formats other than workspace JSON (HistFactory XML, HEPData)."""

from hfx.interfaces.io.hepdata import download
from hfx.interfaces.io.xml_export import write_xml
from hfx.interfaces.io.xml_import import read_xml

__all__ = ["download", "read_xml", "write_xml"]

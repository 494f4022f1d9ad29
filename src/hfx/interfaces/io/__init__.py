"""Readers and writers of formats other than workspace JSON (HistFactory XML, HEPData)."""

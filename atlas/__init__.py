"""Collaboration Atlas: how a community's human-services agencies work together."""

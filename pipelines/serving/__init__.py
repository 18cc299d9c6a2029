"""Serving: how a registered model package is loaded and invoked, locally as in the container."""

"""Endpoint handlers, one module per API family; `routes.py` maps paths onto them."""

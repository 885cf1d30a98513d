"""The HTTP API (FastAPI): routes only; decisions live in backend.services and the procedure.

``create_app(settings)`` in ``backend.api.app`` is the composition root.
"""

"""The WSGI entry point: `gunicorn app:app` serves AuthVault with settings from the environment."""
from authvault.web import create_app

app = create_app()

"""The baseline for bench_codes.py: a bare Flask app whose one endpoint returns a constant.

Served by gunicorn with the same settings as AuthVault (`gunicorn bench.bare_app:app`), it measures
what gunicorn + Flask cost by themselves on this machine.
"""
from flask import Flask, jsonify

app = Flask(__name__)
CONSTANT = {"server_time": 0, "accounts": []}


@app.get("/const")
def const():  # type: ignore[no-untyped-def]
    """A constant JSON body."""
    return jsonify(CONSTANT)

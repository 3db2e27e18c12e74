"""What the locked environment leaves out on purpose, so that a re-lock that brings it back fails here
and not as a second on every notebook's start (README, "How long things take")."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec


def test_the_uri_grammar_that_took_a_second_to_import_is_not_installed():
    assert find_spec("rfc3987_syntax") is None, (
        "rfc3987-syntax is installed: it builds three parsers as jsonschema imports it (1.2 s in JupyterLab, "
        "nbconvert and pytest). Keep it out with pyproject.toml's [tool.uv] override-dependencies, then `uv sync`."
    )


def test_jupyter_events_still_checks_an_event_schema_without_it():
    """JupyterLab's server checks its event schemas with jsonschema's format checker; without the
    grammar it skips only the IRI formats: a schema id that is not a URI is still refused. Run in a
    fresh interpreter, as the server imports them."""
    code = (
        "import sys, jsonschema, jupyter_events.validators as v\n"
        "schema = {'$id': 'https://events.example/lab', 'version': '1', 'type': 'object', 'properties': {}}\n"
        "v.validate_schema(schema)\n"
        "try:\n"
        "    v.validate_schema({**schema, '$id': 'not a uri'})\n"
        "except jsonschema.ValidationError as error:\n"
        "    assert 'uri' in str(error), error\n"
        "else:\n"
        "    raise SystemExit('a schema id that is not a URI was accepted')\n"
        "assert 'rfc3987_syntax' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

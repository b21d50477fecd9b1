"""Every default and limit the provider relies on, defined once. Connection extras, codecs,
clients, operators, sensors and the provider info all read them from here."""

from __future__ import annotations

MAX_CLIENT_ID = 9_223_372_036_854_775_807
"""The largest ``client_id_message``: a signed 64-bit integer, which any gateway storing it as
a BIGINT accepts."""

TIMEZONE = "Europe/Moscow"
"""The zone ``time_send`` is written in when the connection names none."""

MAX_RECIPIENTS = 1000
"""Recipients per send request (JSON/XML); GET is bounded by ``MAX_URL_LENGTH`` too."""

MAX_STATE_IDS = 500
"""Message ids per status request (JSON/XML); GET asks one id per request."""

MAX_URL_LENGTH = 2000
"""The document: GET URLs should stay under 2,000 characters."""

CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection."""

READ_TIMEOUT = 60.0
"""Seconds between two reads of an answer."""

REQUEST_DEADLINE = 300.0
"""Seconds one request may take in all (connect, send, every byte of the answer)."""

REPEAT_WINDOW = 60.0
"""The document: the same request at most once a minute. Tests and the emulator may use a
shorter window through the connection extra ``repeat_window``."""

POLL_INTERVAL = 60.0
"""Seconds between status queries: no shorter than the repeat window on a real account."""

MAX_BODY = 16 * 1024 * 1024
"""Largest answer read, whatever its HTTP status."""

RETRY_LIMIT = 3
"""Tries after the first, for failures a new try can cure (connection extra ``retry_limit``)."""

RETRY_DELAY = 0.5
"""Seconds before the first retry, doubled each time (connection extra ``retry_delay``)."""

RETRY_MAX_DELAY = 30.0
"""Longest wait between two tries, also for a gateway's ``Retry-After``."""

MAX_TRANSIENT_FAILURES = 5
"""Status polls in a row that may fail transiently (5xx, network, unreadable answer) before a
wait gives up."""

PROGRESS_LOG_EVERY = 60.0
"""Seconds between two progress lines of a wait when nothing changed."""

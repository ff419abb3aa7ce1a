"""DROP's Data Broker API: download the next lists, upload status files (off by default).

Three operations, authenticated by the `X-API-KEY` header (DROP technical documentation, "API
operations"; OpenAPI 1.2.0): `GET /data/download` answers 200 with a ZIP, 200 with a JSON
message when nothing is new, or 202 while the ZIP is prepared (call again after Retry-After);
`POST /data/upload` and `POST /data/amend` take CSV files as multipart field `files` and
answer 202 (accepted for validation) or 400 (`rejected` says why per file). 429 asks to wait
(Retry-After); 401, 403, 404, 409 and 500 carry a JSON `message`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from rightful.core.config import Settings
from rightful.core.errors import ConfigurationError, ConnectorError

ZIP_NAME = re.compile(r'filename="?([A-Za-z0-9_.-]+\.zip)"?')
DUPLICATE = "already uploaded"
MAX_WAITS = 10


@dataclass(frozen=True)
class UploadResult:
    """What DROP said of an upload: files accepted for validation, and refused with why."""

    accepted: list[str]
    rejected: list[dict[str, str]]
    message: str


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message") or response.reason_phrase)
    except ValueError:
        return response.reason_phrase


class DropClient:
    """The API, as settings configure it; `sleep` is injectable so tests need not wait."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.drop_api_enabled:
            raise ConfigurationError(
                "The DROP API is off: set RIGHTFUL_DROP_API_ENABLED=true and "
                "RIGHTFUL_DROP_API_KEY, or download the list from the portal and import it."
            )
        if not settings.drop_api_key:
            raise ConfigurationError("RIGHTFUL_DROP_API_KEY is not set.")
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=settings.drop_api_url.rstrip("/"),
            headers={"X-API-KEY": settings.drop_api_key},
            timeout=httpx.Timeout(60.0, connect=10.0),
            transport=transport,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> DropClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _wait(self, response: httpx.Response, default: float) -> None:
        try:
            seconds = float(response.headers.get("Retry-After", default))
        except ValueError:
            seconds = default
        self._sleep(min(max(seconds, 1.0), 300.0))

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, waited and repeated on 202 (download being prepared) and 429."""
        for _ in range(MAX_WAITS):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                raise ConnectorError(f"DROP cannot be reached: {type(exc).__name__}") from exc
            if response.status_code == 429:
                self._wait(response, 30)
                continue
            if response.status_code == 202 and method == "GET":
                self._wait(response, 60)
                continue
            return response
        raise ConnectorError("DROP kept asking to wait; try again later.")

    def download(self, folder: Path) -> Path | None:
        """The next ZIP saved in `folder`, or None when DROP has nothing new."""
        response = self._send(
            "GET", "/data/download", headers={"Accept": "application/zip, application/json"}
        )
        if response.status_code != 200:
            raise ConnectorError(f"DROP refused the download ({response.status_code}): "
                                 f"{_message(response)}")  # fmt: skip
        if "zip" not in response.headers.get("content-type", ""):
            return None  # {"message": "No new consumer request data ..."}
        found = ZIP_NAME.search(response.headers.get("content-disposition", ""))
        name = found[1] if found else "DROP.zip"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(name).name
        path.write_bytes(response.content)
        return path

    def upload(self, files: list[Path], *, amend: bool = False) -> UploadResult:
        """Send status files (new, or `amend`ing earlier ones). A file DROP already holds for
        this download counts as accepted: uploading again is then harmless."""
        parts = [("files", (p.name, p.read_bytes(), "text/csv")) for p in files]
        response = self._send("POST", "/data/amend" if amend else "/data/upload", files=parts)
        if response.status_code not in (202, 400):
            raise ConnectorError(f"DROP refused the upload ({response.status_code}): "
                                 f"{_message(response)}")  # fmt: skip
        body = response.json()
        accepted = [str(a.get("fileName")) for a in body.get("accepted", [])]
        rejected = []
        for item in body.get("rejected", []):
            if DUPLICATE in str(item.get("message", "")):
                accepted.append(str(item.get("fileName")))
            else:
                rejected.append(
                    {"file": str(item.get("fileName")), "why": str(item.get("message"))}
                )
        return UploadResult(accepted, rejected, str(body.get("message", "")))

"""The sample import files, offered to admins as templates to start from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Sample:
    """A committed sample file and the importer it is for."""

    name: str
    importer: str

    @property
    def path(self) -> Path:
        """Where the file lies."""
        return HERE / self.name


SAMPLES = (
    Sample("people.xlsx", "people"),
    Sample("enterprises.xlsx", "enterprises"),
    Sample("records_platform.xlsx", "records"),
    Sample("records_ledger_gb18030.csv", "records"),
)

"""The site's timezone as a plain pydantic model: a field of every command's settings and of the models'
parameters that need the local time (the run's days, the PV site), defined once."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator


class SiteTimezone(BaseModel):
    """The site's IANA timezone: days, CSV timestamps and the PV curve use its local time.

    Raises
    ------
    pydantic.ValidationError
        If the name is no IANA timezone.
    """

    timezone: str = Field(
        "Europe/Berlin",
        description="IANA timezone of the site; days, CSV timestamps and the PV curve use its local time",
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone '{value}' (use an IANA name such as Europe/Berlin)") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The site's timezone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

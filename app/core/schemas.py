"""Base for API request/response models: camelCase on the wire, snake_case in Python."""

from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# The largest PostgreSQL BIGINT.
MAX_ID = 2**63 - 1
# An entity id in a path, query or header: a positive integer (SPEC §4). Anything else is a
# 422 naming the parameter, before a query could fail on it.
EntityId = Annotated[int, Interval(gt=0, le=MAX_ID)]


def in_utc(moment: datetime) -> datetime:
    """The moment in UTC; a ValueError when that is past what Python and PostgreSQL hold
    (`9999-12-31T23:00:00-05:00` is in year 10000 in UTC)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("Input should be between years 1 and 9999 in UTC") from None


# A moment a client sends: with its offset, and storable once in UTC; anything else is a
# 422 naming the field.
Moment = Annotated[AwareDatetime, AfterValidator(in_utc)]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        # Responses always carry every field, defaults included: say so in the OpenAPI
        # document, so generated clients need no `?` on them.
        json_schema_serialization_defaults_required=True,
    )


def example(value: dict[str, Any]) -> ConfigDict:
    """A model's `model_config` showing `value` (wire names) as its OpenAPI example; the
    ApiModel settings are inherited. tests/test_openapi.py checks every example validates."""
    return ConfigDict(json_schema_extra={"examples": [value]})

"""Base for API request/response models: camelCase on the wire, snake_case in Python."""

from typing import Annotated, Any

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# The largest PostgreSQL BIGINT.
MAX_ID = 2**63 - 1
# An entity id in a path, query or header: a positive integer (SPEC §4). Anything else is a
# 422 naming the parameter, before a query could fail on it.
EntityId = Annotated[int, Interval(gt=0, le=MAX_ID)]


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

"""The consequence ladder (`rules/consequences.yaml`): keys, labels and ranks for motions."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mailproc.config.yamlsource import load_yaml, validate


class Consequence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    rank: int = Field(ge=0)
    label: str


class Ladder(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    consequences: list[Consequence] = Field(min_length=1)

    def get(self, key: str) -> Consequence | None:
        return next((c for c in self.consequences if c.key == key), None)

    def highest(self, keys: list[str]) -> Consequence | None:
        found = [c for c in (self.get(k) for k in keys) if c is not None]
        return max(found, key=lambda c: c.rank) if found else None


DEFAULT = Ladder(consequences=[Consequence(key="none", rank=0, label="No action"),
                               Consequence(key="warning", rank=1, label="A warning")])


def load_ladder(path: Path) -> Ladder:
    """The ladder in force (the shipped minimal one when the file is missing)."""
    if not path.exists():
        return DEFAULT
    return validate(load_yaml(path), Ladder)

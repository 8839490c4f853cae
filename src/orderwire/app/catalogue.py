"""The template catalogue: data files in src/orderwire/catalogue, one per template name."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from orderwire.domain.templates import TemplateDefinition, definition_from_dict

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"


@cache
def load_catalogue(directory: Path = CATALOGUE_DIR) -> dict[str, TemplateDefinition]:
    """Every template definition by name."""
    definitions = {}
    for path in sorted(directory.glob("*.toml")):
        definition = definition_from_dict(tomllib.loads(path.read_text(encoding="utf-8")))
        definitions[definition.name] = definition
    return definitions

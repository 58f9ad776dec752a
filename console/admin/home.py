"""Sections of the home page; each domain adds the ones its roles start from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import current_app

from console.permissions import user_can


@dataclass(frozen=True)
class HomeSection:
    """A block on the home page, shown to roles holding `permission`, in `order`."""

    permission: str
    template: str
    context: Callable[[object], dict] = lambda user: {}
    order: int = 50


def add_home_section(app, section: HomeSection) -> None:
    app.extensions.setdefault("console_home", []).append(section)


def home_sections(user) -> list[tuple[HomeSection, dict]]:
    sections = sorted(current_app.extensions.get("console_home", []), key=lambda s: s.order)
    return [(s, s.context(user)) for s in sections if user_can(user, s.permission)]

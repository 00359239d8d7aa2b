"""Command handlers: decide the events for a request and append them (the write side)."""

from shared.commands.base import Actor, system_actor
from shared.commands.journal import JournalCommands, Written
from shared.commands.organization import Invitation, OrganizationCommands
from shared.commands.personal_data import export_document

__all__ = [
    "Actor",
    "Invitation",
    "JournalCommands",
    "OrganizationCommands",
    "Written",
    "export_document",
    "system_actor",
]

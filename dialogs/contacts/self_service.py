"""Everything about oneself, in a personal chat: add or change one's entry, see it, erase it.

The e-mail of an entry is always the one Teams gives; consent is asked explicitly.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import (
    DialogTurnResult,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.schema import ActionTypes, CardAction

from dialogs.cancel_and_help import CancelAndHelpDialog
from dialogs.contacts.texts import Texts
from dialogs.turn import Turn
from edge.identity import Identity
from scheduler.clock import STOCKHOLM, Clock
from storage.contact_search import ContactDirectory
from storage.contacts import Contact, ContactDraft, ContactInfo, ErasedBy, split_competences
from storage.inputs import column_limit
from storage.municipalities import find_municipality

logger = logging.getLogger(__name__)


ADD_ME = "contacts.add_me"
ERASE_ME = "contacts.erase_me"


# A name or a role: what the competence bank's columns hold (both have the same length).
TEXT_CHARS = min(column_limit(Contact, "name"), column_limit(Contact, "role"))

YES_WORDS = frozenset({"ja", "j", "japp", "jajamen", "ok", "okej", "jag godkänner", "godkänner"})
NO_WORDS = frozenset({"nej", "n", "nä", "nää", "nej tack", "jag godkänner inte"})
KEEP_WORDS = frozenset({"behåll", "samma", "oförändrat", "ingen ändring", "-"})
SKIP_WORDS = frozenset({"hoppa över", "inget", "ingen", "nej", "-", "vill inte", "skippa"})


def _plain(text: str) -> str:
    return re.sub(r"[!?.,;:]+", " ", text.lower()).strip()


def dialog_options(turn: Turn, mine: ContactInfo | None, identity: Identity) -> dict[str, Any]:
    """Plain JSON for the dialog state (stored between turns; the retention job purges it when
    a dialog is left unfinished)."""
    options: dict[str, Any] = {
        "user_id": turn.user.id,
        "name": turn.user.name,
        "aad": identity.aad_object_id,
        "email": identity.email,  # the entry's address is the one Teams gives, never a typed one
    }
    if mine is not None:
        options.update(
            {
                "contact_id": mine.id,
                "name": mine.name or turn.user.name,
                "municipality": mine.municipality.code,
                "municipality_name": mine.municipality.name,
                "role": mine.role,
                "competences": list(mine.competences),
                "phone": mine.phone,
            }
        )
    return options


def _when(moment: datetime | None) -> str:
    if moment is None:
        return Texts.NOT_GIVEN
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H.%M")


def describe_mine(mine: ContactInfo | None, user_id: str) -> str:
    if mine is None:
        return Texts.MINE_NO_CONTACT
    if mine.added_by == user_id:
        by = Texts.BY_SELF
    elif mine.added_by in ("import", "demo"):
        by = Texts.BY_IMPORT
    else:
        by = Texts.BY_OTHER
    return Texts.MINE_CONTACT.format(
        name=mine.name,
        place=mine.municipality.name,
        role=mine.role or Texts.NOT_GIVEN,
        competences=", ".join(mine.competences) or Texts.NOT_GIVEN,
        email=mine.email,
        phone=mine.phone or Texts.NOT_GIVEN,
        teams=Texts.TEAMS_YES if mine.teams_aad_object_id else Texts.TEAMS_NO,
        consent=Texts.CONSENT_YES.format(when=_when(mine.consent_at))
        if mine.consent
        else Texts.CONSENT_NO,
        added_at=_when(mine.added_at),
        added_by=by,
        updated_at=_when(mine.updated_at),
    )


def _summary(contact: ContactInfo) -> str:
    phone = Texts.SUMMARY_PHONE.format(phone=contact.phone) if contact.phone else ""
    return Texts.SUMMARY.format(
        name=contact.name,
        role=contact.role or Texts.NOT_GIVEN,
        place=contact.municipality.name,
        competences=", ".join(contact.competences),
        email=contact.email,
        phone=phone,
    )


# --- dialogs ---------------------------------------------------------------------------------
def _yes_no(text: str) -> bool | None:
    plain = _plain(text)
    if plain in YES_WORDS:
        return True
    if plain in NO_WORDS:
        return False
    return None


def _yes_no_prompt(text: str) -> PromptOptions:
    choices = [
        CardAction(type=ActionTypes.im_back, title=Texts.YES, value=Texts.YES),
        CardAction(type=ActionTypes.im_back, title=Texts.NO, value=Texts.NO),
    ]
    return PromptOptions(
        prompt=MessageFactory.suggested_actions(choices, text),
        retry_prompt=MessageFactory.suggested_actions(choices, Texts.YES_OR_NO),
    )


async def _is_yes_or_no(prompt: PromptValidatorContext) -> bool:
    return prompt.recognized.succeeded and _yes_no(prompt.recognized.value or "") is not None


def _keep(text: str, options: dict[str, Any], key: str) -> bool:
    return key in options and options.get("contact_id") is not None and _plain(text) in KEEP_WORDS


class AddMeDialog(CancelAndHelpDialog):
    """Municipality, role, competences, phone, then explicit consent; the e-mail is Teams'.

    The same steps change an existing entry; each prompt then shows the current value.
    """

    cancelled_text = Texts.CANCELLED

    def __init__(self, directory: ContactDirectory, clock: Clock) -> None:
        super().__init__(ADD_ME)
        self._directory = directory
        self._clock = clock
        self.add_dialog(TextPrompt("contacts.name", self._is_text))
        self.add_dialog(TextPrompt("contacts.municipality", self._is_municipality))
        self.add_dialog(TextPrompt("contacts.role", self._is_text))
        self.add_dialog(TextPrompt("contacts.competences", self._is_competences))
        self.add_dialog(TextPrompt("contacts.phone", self._is_phone))
        self.add_dialog(TextPrompt("contacts.consent", _is_yes_or_no))
        self.add_dialog(
            WaterfallDialog(
                "contacts.add_me.steps",
                [
                    self.ask_name,
                    self.ask_municipality,
                    self.ask_role,
                    self.ask_competences,
                    self.ask_phone,
                    self.ask_consent,
                    self.save,
                ],
            )
        )
        self.initial_dialog_id = "contacts.add_me.steps"

    # validators
    async def _is_municipality(self, prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value or ""
        if _keep(value, prompt.options.validations or {}, "municipality"):
            return True
        return find_municipality(value) is not None

    async def _is_text(self, prompt: PromptValidatorContext) -> bool:
        value = (prompt.recognized.value or "").strip()
        if len(value) > TEXT_CHARS:  # name and role: said why, then asked again
            await prompt.context.send_activity(Texts.TOO_LONG.format(limit=TEXT_CHARS))
            return False
        return bool(value)

    async def _is_competences(self, prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value or ""
        if _keep(value, prompt.options.validations or {}, "competences"):
            return True
        return bool(split_competences(value))

    async def _is_phone(self, prompt: PromptValidatorContext) -> bool:
        value = _plain(prompt.recognized.value or "")
        if value in SKIP_WORDS or value in KEEP_WORDS:
            return True
        return bool(re.fullmatch(r"\+?[0-9][0-9 \-()/]{4,24}", value))

    # steps
    async def ask_name(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values.update(dict(step.options or {}))
        if (step.values.get("name") or "").strip():
            return await step.next(step.values["name"])
        return await step.prompt(
            "contacts.name", PromptOptions(prompt=MessageFactory.text(Texts.ASK_NAME))
        )

    async def ask_municipality(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["name"] = " ".join(str(step.result or "").split())
        options: dict[str, Any] = dict(step.values)
        text = (
            Texts.ASK_MUNICIPALITY_EDIT.format(current=options["municipality_name"])
            if options.get("contact_id") is not None
            else Texts.ASK_MUNICIPALITY
        )
        return await step.prompt(
            "contacts.municipality",
            PromptOptions(
                prompt=MessageFactory.text(text),
                retry_prompt=MessageFactory.text(Texts.BAD_MUNICIPALITY),
                validations=options,
            ),
        )

    async def ask_role(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = str(step.result or "")
        if not _keep(answer, step.values, "municipality"):
            found = find_municipality(answer)
            assert found is not None  # the validator let only names through
            step.values["municipality"] = found.code
            step.values["municipality_name"] = found.name
        text = (
            Texts.ASK_ROLE_EDIT.format(current=step.values.get("role") or Texts.NOT_GIVEN)
            if step.values.get("contact_id") is not None
            else Texts.ASK_ROLE
        )
        return await step.prompt("contacts.role", PromptOptions(prompt=MessageFactory.text(text)))

    async def ask_competences(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = str(step.result or "").strip()
        if not _keep(answer, step.values, "role"):
            step.values["role"] = answer
        text = (
            Texts.ASK_COMPETENCES_EDIT.format(current=", ".join(step.values["competences"]))
            if step.values.get("contact_id") is not None
            else Texts.ASK_COMPETENCES
        )
        return await step.prompt(
            "contacts.competences",
            PromptOptions(
                prompt=MessageFactory.text(text),
                retry_prompt=MessageFactory.text(Texts.BAD_COMPETENCES),
                validations=dict(step.values),
            ),
        )

    async def ask_phone(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = str(step.result or "")
        if not _keep(answer, step.values, "competences"):
            step.values["competences"] = list(split_competences(answer))
        text = (
            Texts.ASK_PHONE_EDIT.format(current=step.values.get("phone") or Texts.NOT_GIVEN)
            if step.values.get("contact_id") is not None
            else Texts.ASK_PHONE
        )
        return await step.prompt(
            "contacts.phone",
            PromptOptions(
                prompt=MessageFactory.text(text),
                retry_prompt=MessageFactory.text(Texts.BAD_PHONE),
            ),
        )

    async def ask_consent(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = str(step.result or "").strip()
        plain = _plain(answer)
        if plain in KEEP_WORDS and step.values.get("contact_id") is not None:
            pass
        elif plain in SKIP_WORDS:
            step.values["phone"] = ""
        else:
            step.values["phone"] = answer
        return await step.prompt("contacts.consent", _yes_no_prompt(Texts.CONSENT))

    async def save(self, step: WaterfallStepContext) -> DialogTurnResult:
        values = step.values
        if not _yes_no(str(step.result or "")):
            mine = await asyncio.to_thread(
                self._directory.of_user, values.get("aad"), values.get("email")
            )
            if values.get("contact_id") is not None and mine is not None:
                # "Nej" withdraws consent: the entry is unpublished at once, as we say it is.
                await asyncio.to_thread(self._directory.withdraw_consent, mine, self._clock.now())
                logger.info("a competence-bank entry's consent was withdrawn by its owner")
                await step.context.send_activity(Texts.UNPUBLISHED)
            else:
                await step.context.send_activity(Texts.NOT_SAVED)
            return await step.end_dialog(False)
        municipality = find_municipality(values["municipality_name"])
        assert municipality is not None
        draft = ContactDraft(
            name=values.get("name") or "",
            municipality=municipality,
            role=values.get("role") or "",
            competences=tuple(values.get("competences") or ()),
            email=values["email"],
            phone=values.get("phone") or "",
            consent=True,
            teams_aad_object_id=values.get("aad"),
            teams_email=values["email"],
        )
        now = self._clock.now()
        existed = values.get("contact_id") is not None
        saved = await asyncio.to_thread(
            self._directory.save,
            draft,
            values.get("user_id") or "self",
            now,
            contact_id=values.get("contact_id"),
        )
        logger.info(
            "a competence-bank entry was %s by its owner", "changed" if existed else "added"
        )
        text = Texts.UPDATED if existed else Texts.SAVED
        await step.context.send_activity(text.format(summary=_summary(saved)))
        return await step.end_dialog(True)


class EraseMeDialog(CancelAndHelpDialog):
    """Asks once more, then erases the asker's entry from the database and the index at once."""

    cancelled_text = Texts.CANCELLED

    def __init__(self, directory: ContactDirectory, clock: Clock) -> None:
        super().__init__(ERASE_ME)
        self._directory = directory
        self._clock = clock
        self.add_dialog(TextPrompt("contacts.erase.confirm", _is_yes_or_no))
        self.add_dialog(
            WaterfallDialog("contacts.erase_me.steps", [self.ask_confirmation, self.erase])
        )
        self.initial_dialog_id = "contacts.erase_me.steps"

    async def ask_confirmation(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values.update(dict(step.options or {}))
        return await step.prompt("contacts.erase.confirm", _yes_no_prompt(Texts.CONFIRM_ERASE))

    async def erase(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not _yes_no(str(step.result or "")):
            await step.context.send_activity(Texts.NOT_ERASED)
            return await step.end_dialog(False)
        values = step.values
        mine = await asyncio.to_thread(
            self._directory.of_user, values.get("aad"), values.get("email")
        )
        if mine is not None:
            await asyncio.to_thread(
                self._directory.erase,
                mine,
                ErasedBy.SELF,
                Texts.ERASE_REASON_SELF,
                self._clock.now(),
            )
            logger.info("a competence-bank entry was erased by its owner")
        await step.context.send_activity(Texts.ERASED)
        return await step.end_dialog(True)

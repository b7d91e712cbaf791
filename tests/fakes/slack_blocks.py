"""Slack's documented Block Kit limits, checked the way Slack checks them before showing anything.

One validator for every surface the fakes see: ``chat.postMessage``, ``chat.postEphemeral`` and
``chat.update`` (refused ``invalid_blocks``), ``views.open`` / ``views.update`` / ``views.push``
(refused ``invalid_arguments``), response_url posts (HTTP 400) and the bodies an app acks with.
Each problem is reported as Slack does, with a JSON pointer: ``must be less than 3001 characters
[json-pointer:/blocks/0/text/text]``. Limits: https://docs.slack.dev/reference/block-kit/blocks
and …/composition-objects/text-object.

A message's blocks are also refused as a whole when their text adds up to more than 12,000
characters (``msg_blocks_too_long``, one of chat.postMessage's documented errors, which names no
number): 12,000 is the number Slack's own SDK maintainers give for it, "12,000 text characters
with a buffer for block containers" (slackapi/bolt-js#2509, where a message of sections refused at
~13,200 characters was measured; #2867 saw one refused at 11,341), and the cumulative limit of
the markdown block's reference (…/blocks/markdown-block).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_URL = 3000
MAX_INPUT_LABEL = 2000
MAX_INPUT_LENGTH = 3000
MAX_VIEW_TITLE = 24  # title, submit and close
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_MESSAGE_TEXT = 40000
MAX_BLOCKS_TEXT = 12000  # every text of a message's blocks together (msg_blocks_too_long)
TOO_LONG = "msg_blocks_too_long"
TEXT_TYPES = ("plain_text", "mrkdwn")


class _Check:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.errors.append(f"{what} [json-pointer:{where}]")

    def text(self, obj: Any, where: str, limit: int, *, plain: bool = False) -> None:
        """A text object: plain_text or mrkdwn, 1..limit characters."""
        if not isinstance(obj, Mapping) or obj.get("type") not in TEXT_TYPES:
            self.fail(where, "must be a text object")
            return
        if plain and obj["type"] != "plain_text":
            self.fail(f"{where}/type", "must be plain_text")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail(f"{where}/text", "must be more than 0 characters")
        elif len(text) > limit:
            self.fail(f"{where}/text", f"must be less than {limit + 1} characters")

    def elements(self, block: Mapping[str, Any], where: str, limit: int) -> list[Any]:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail(f"{where}/elements", "must provide at least one element")
            return []
        if len(elements) > limit:
            self.fail(f"{where}/elements", f"must provide no more than {limit} items")
        return elements

    def button(self, element: Mapping[str, Any], where: str, action_ids: set[str]) -> None:
        self.text(element.get("text"), f"{where}/text", MAX_BUTTON_TEXT, plain=True)
        self.action_id(element, where, action_ids)
        if len(str(element.get("value", ""))) > MAX_BUTTON_VALUE:
            self.fail(f"{where}/value", f"must be less than {MAX_BUTTON_VALUE + 1} characters")
        if len(str(element.get("url", ""))) > MAX_BUTTON_URL:
            self.fail(f"{where}/url", f"must be less than {MAX_BUTTON_URL + 1} characters")

    def action_id(self, element: Mapping[str, Any], where: str, action_ids: set[str]) -> None:
        action_id = element.get("action_id")
        if action_id is None:
            return  # Slack makes one up
        if len(str(action_id)) > MAX_ACTION_ID:
            self.fail(f"{where}/action_id", f"must be less than {MAX_ACTION_ID + 1} characters")
        if action_id in action_ids:
            self.fail(f"{where}/action_id", "must be unique")
        action_ids.add(str(action_id))

    def block(self, block: Any, where: str, action_ids: set[str], block_ids: set[str]) -> None:
        if not isinstance(block, Mapping):
            self.fail(where, "must be an object")
            return
        kind = block.get("type")
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > MAX_BLOCK_ID:
                self.fail(f"{where}/block_id", f"must be less than {MAX_BLOCK_ID + 1} characters")
            if block_id in block_ids:
                self.fail(f"{where}/block_id", "must be unique")
            block_ids.add(str(block_id))
        if kind == "header":
            self.text(block.get("text"), f"{where}/text", MAX_HEADER_TEXT, plain=True)
        elif kind == "section":
            self.section(block, where, action_ids)
        elif kind == "context":
            for i, element in enumerate(self.elements(block, where, MAX_CONTEXT_ELEMENTS)):
                if isinstance(element, Mapping) and element.get("type") == "image":
                    continue
                self.text(element, f"{where}/elements/{i}", MAX_SECTION_TEXT)
        elif kind == "actions":
            for i, element in enumerate(self.elements(block, where, MAX_ACTIONS_ELEMENTS)):
                if isinstance(element, Mapping) and element.get("type") == "button":
                    self.button(element, f"{where}/elements/{i}", action_ids)
                elif isinstance(element, Mapping):
                    self.action_id(element, f"{where}/elements/{i}", action_ids)
        elif kind == "input":
            self.text(block.get("label"), f"{where}/label", MAX_INPUT_LABEL, plain=True)
            element = block.get("element")
            if not isinstance(element, Mapping):
                self.fail(f"{where}/element", "must be an object")
                return
            self.action_id(element, f"{where}/element", action_ids)
            if element.get("type") == "plain_text_input":
                longest = element.get("max_length", MAX_INPUT_LENGTH)
                if not isinstance(longest, int) or not 1 <= longest <= MAX_INPUT_LENGTH:
                    self.fail(f"{where}/element/max_length", f"must be 1 to {MAX_INPUT_LENGTH}")
        elif kind not in ("divider", "image", "rich_text", "markdown", "file", "video"):
            self.fail(f"{where}/type", "must be a known block type")

    def section(self, block: Mapping[str, Any], where: str, action_ids: set[str]) -> None:
        if "text" not in block and "fields" not in block:
            self.fail(where, "must provide text or fields")
        if "text" in block:
            self.text(block["text"], f"{where}/text", MAX_SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not fields:
                self.fail(f"{where}/fields", "must provide at least one field")
                fields = []
            if len(fields) > MAX_FIELDS:
                self.fail(f"{where}/fields", f"must provide no more than {MAX_FIELDS} items")
            for i, item in enumerate(fields):
                self.text(item, f"{where}/fields/{i}", MAX_FIELD_TEXT)
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("type") == "button":
            self.button(accessory, f"{where}/accessory", action_ids)

    def blocks(self, blocks: Any, where: str, most: int) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, list):
            self.fail(where, "must be an array")
            return
        if len(blocks) > most:
            self.fail(where, f"must provide no more than {most} items")
        action_ids: set[str] = set()
        block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"{where}/{i}", action_ids, block_ids)


def message_errors(body: Mapping[str, Any]) -> list[str]:
    """What Slack would refuse in a message body (its ``text`` and ``blocks``); [] when fine."""
    check = _Check()
    text = body.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        check.fail("/text", f"must be less than {MAX_MESSAGE_TEXT + 1} characters")
    check.blocks(body.get("blocks"), "/blocks", MAX_MESSAGE_BLOCKS)
    if (total := blocks_text(body.get("blocks"))) > MAX_BLOCKS_TEXT:
        check.fail("/blocks", f"{TOO_LONG}: {total} characters of text, more than {MAX_BLOCKS_TEXT}")
    return check.errors


def blocks_text(blocks: Any) -> int:
    """How many characters of text blocks hold, every text object's together (button labels,
    field and context texts too)."""
    if isinstance(blocks, Mapping):
        text = blocks.get("text")
        own = len(text) if isinstance(text, str) and blocks.get("type") in TEXT_TYPES else 0
        return own + sum(blocks_text(v) for v in blocks.values() if isinstance(v, (Mapping, list)))
    if isinstance(blocks, list):
        return sum(blocks_text(item) for item in blocks)
    return 0


def refusal(errors: list[str]) -> str:
    """The error code Slack answers a message it refuses with."""
    return TOO_LONG if any(e.startswith(TOO_LONG) for e in errors) else "invalid_blocks"


def view_errors(view: Any) -> list[str]:
    """What Slack would refuse in a modal view; [] when fine."""
    check = _Check()
    if not isinstance(view, Mapping):
        check.fail("/view", "must be an object")
        return check.errors
    for key in ("title", "submit", "close"):
        if view.get(key) is not None or key == "title":
            check.text(view.get(key), f"/view/{key}", MAX_VIEW_TITLE, plain=True)
    if len(str(view.get("private_metadata", ""))) > MAX_PRIVATE_METADATA:
        check.fail("/view/private_metadata", f"must be less than {MAX_PRIVATE_METADATA + 1} characters")
    if len(str(view.get("callback_id", ""))) > MAX_CALLBACK_ID:
        check.fail("/view/callback_id", f"must be less than {MAX_CALLBACK_ID + 1} characters")
    check.blocks(view.get("blocks"), "/view/blocks", MAX_VIEW_BLOCKS)
    return check.errors


def ack_errors(body: Any) -> list[str]:
    """What Slack would refuse in an app's ack body: a message, or a ``response_action`` view."""
    if not isinstance(body, Mapping):
        return []
    if body.get("response_action") in ("update", "push"):
        return view_errors(body.get("view"))
    if "blocks" in body or "text" in body:
        return message_errors(body)
    return []

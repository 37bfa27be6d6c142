"""Messages of outbound deliveries: where a webhook or channel may send, and what a destination
answered (the details of a failed connection go to the server log, not the page)."""

from __future__ import annotations

TEMPLATES = {
    "msg.outbound.channel_disabled": "the channel is disabled",
    "msg.outbound.no_host": "the destination has no valid host name",
    "msg.outbound.unreachable": "could not deliver to the destination (details in the server log)",
    "msg.outbound.metadata_store": "{host}:{port} is the metadata store; deliveries never go there",
    "msg.outbound.metadata_store.hint": "add the exact address:port to outbound_allow to override",
    "msg.outbound.private": "{host} resolves to a loopback, link-local or private address, which "
    "deliveries may not reach (outbound_allow)",
    "msg.outbound.private.hint": "an admin may allow it by adding the address or range to "
    "outbound_allow",
    "msg.outbound.scheme": "a webhook URL must be http(s)://host/...",
    "msg.outbound.port": "the webhook URL has an invalid port",
    "msg.outbound.too_big": "the notification is {size} bytes, over alert_max_payload_bytes "
    "({limit})",
    "msg.outbound.header": "a delivery header has an invalid name or value",
    "msg.outbound.spaces": "the webhook URL contains spaces or line breaks",
    "msg.outbound.redirect": "the destination answered HTTP {status}; redirects are not followed",
    "msg.outbound.status": "the destination answered HTTP {status}",
    "msg.outbound.over_limit": "the notification is over alert_max_payload_bytes ({limit})",
    "msg.outbound.stored_url": "the {kind} channel's stored address is not a valid {kind} URL",
}
